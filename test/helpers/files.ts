import { readdirSync } from 'node:fs';

/** Every file below a folder, as sorted paths relative to it: what a store or a temp folder holds. */
export function filesUnder(folder: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
    );
  return walk(folder)
    .map((f) => f.slice(folder.length + 1))
    .sort();
}
