import type { Inputs } from '@deploy-suite/kit';
import type { Colour, RouterProvider } from '@deploy-suite/router';
import type { Provider } from './settings.ts';

/**
 * The chosen router's provider. Each is loaded only when chosen, so a job on nginx never loads
 * the Kubernetes or AWS clients (they are most of the bundle and of the start-up time).
 */
export async function loadProvider(
  name: Provider,
  inputs: Inputs,
  colours: [Colour, Colour],
): Promise<{ provider: RouterProvider; cleanUp: () => void }> {
  switch (name) {
    case 'nginx': {
      const { readNginxConfig, createNginxProvider, cleanUpSsh } = await import('@deploy-suite/router/nginx');
      const config = readNginxConfig(inputs, colours);
      return { provider: createNginxProvider(config), cleanUp: () => cleanUpSsh(config.ssh) };
    }
    case 'command': {
      const { readCommandConfig, createCommandProvider } = await import('@deploy-suite/router/command');
      return { provider: createCommandProvider(readCommandConfig(inputs, colours)), cleanUp: () => {} };
    }
    case 'kubernetes': {
      const { readKubernetesConfig, createKubernetesProvider } = await import('@deploy-suite/router/kubernetes');
      return { provider: createKubernetesProvider(readKubernetesConfig(inputs, colours)), cleanUp: () => {} };
    }
    case 'aws-alb': {
      const { readAlbConfig, createAlbProvider } = await import('@deploy-suite/router/aws-alb');
      return { provider: createAlbProvider(readAlbConfig(inputs, colours)), cleanUp: () => {} };
    }
  }
}
