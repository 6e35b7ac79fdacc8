import { getIfChanged, type GitHubClient } from './client.ts';

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
  /** Stops after a page this accepts (a list sorted newest first needs no page past its window). */
  enough?: (page: T[]) => boolean,
): Promise<PolledList<T>> {
  const items: T[] = [];
  let changed = false;
  let requests = 0;
  let notModified = 0;
  for (let page = 1; ; page++) {
    const cached = cache.pages.get(page);
    let current: CachedPage;
    requests++;
    const answer = await getIfChanged<unknown>(
      octokit,
      route,
      { ...parameters, per_page: perPage, page },
      cached?.etag,
    );
    if (answer.changed) {
      if (!Array.isArray(answer.data)) throw new TypeError(`${route} answered with something other than a list`);
      current = { etag: answer.etag, data: answer.data, hasNext: /\brel="next"/.test(answer.link ?? '') };
      changed = true;
    } else {
      // A 304 comes only for the ETag sent, so the page it refers to is in the cache.
      notModified++;
      current = cached!;
    }
    cache.pages.set(page, current);
    items.push(...(current.data as T[]));
    if (current.hasNext && enough?.(current.data as T[]) === true) return { changed, items, requests, notModified };
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
