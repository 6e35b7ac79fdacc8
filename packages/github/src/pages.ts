import { isNotModified, type GitHubClient } from './client.ts';

interface CachedPage {
  etag: string | undefined;
  data: unknown[];
  hasNext: boolean;
}

/** ETags and bodies of every page of one list, kept between polls. */
export class PageCache {
  readonly pages = new Map<number, CachedPage>();
}

export interface PolledList<T> {
  /** False when every page answered 304 (and the page count stayed the same). */
  changed: boolean;
  items: T[];
  /** Requests made, and how many of them were 304s (free of rate limit on GitHub). */
  requests: number;
  notModified: number;
}

/**
 * Reads every page of a list with conditional requests: each page sends the ETag it had last
 * time, a 304 reuses the cached page (and costs no rate limit), and a page that changed replaces
 * it. Every page is read each time, so an edit deep in the list is seen, not only new items.
 */
export async function listAllIfChanged<T>(
  octokit: GitHubClient,
  route: string,
  parameters: Record<string, unknown>,
  cache: PageCache,
  perPage = 100,
): Promise<PolledList<T>> {
  const items: T[] = [];
  let changed = false;
  let requests = 0;
  let notModified = 0;
  for (let page = 1; ; page++) {
    const cached = cache.pages.get(page);
    let current: CachedPage;
    requests++;
    try {
      const response = await octokit.request(route, {
        ...parameters,
        per_page: perPage,
        page,
        headers: cached?.etag === undefined ? {} : { 'if-none-match': cached.etag },
      });
      const data = response.data as unknown;
      if (!Array.isArray(data)) throw new TypeError(`${route} answered with something other than a list`);
      current = { etag: response.headers.etag, data, hasNext: /\brel="next"/.test(response.headers.link ?? '') };
      changed = true;
    } catch (error) {
      if (!isNotModified(error) || cached === undefined) throw error;
      notModified++;
      current = cached;
    }
    cache.pages.set(page, current);
    items.push(...(current.data as T[]));
    if (!current.hasNext) {
      // A list that shrank leaves stale pages behind: drop them, and count that as a change.
      for (const stale of [...cache.pages.keys()].filter((p) => p > page)) {
        cache.pages.delete(stale);
        changed = true;
      }
      return { changed, items, requests, notModified };
    }
  }
}
