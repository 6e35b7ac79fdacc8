export const id = 531;
export const ids = [531,47];
export const modules = {

/***/ 1047:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  GitHubApiError: () => (/* reexport */ GitHubApiError),
  PageCache: () => (/* reexport */ PageCache),
  addIssueComment: () => (/* reexport */ addIssueComment),
  addLabels: () => (/* reexport */ addLabels),
  commitAuthors: () => (/* reexport */ commitAuthors),
  compareCommits: () => (/* reexport */ compareCommits),
  createGitHubClient: () => (/* reexport */ createGitHubClient),
  deleteIssueComment: () => (/* reexport */ deleteIssueComment),
  dispatchWorkflow: () => (/* reexport */ dispatchWorkflow),
  ensureMarkedIssue: () => (/* reexport */ ensureMarkedIssue),
  findMarkedIssue: () => (/* reexport */ findMarkedIssue),
  getCollaboratorPermission: () => (/* reexport */ getCollaboratorPermission),
  getIfChanged: () => (/* reexport */ getIfChanged),
  getIssue: () => (/* reexport */ getIssue),
  gitHubFailure: () => (/* reexport */ gitHubFailure),
  isNotModified: () => (/* reexport */ isNotModified),
  lastSuccessfulDeploymentSha: () => (/* reexport */ lastSuccessfulDeploymentSha),
  listAllIfChanged: () => (/* reexport */ listAllIfChanged),
  listIssueComments: () => (/* reexport */ listIssueComments),
  listTeamMembers: () => (/* reexport */ listTeamMembers),
  onGitHub: () => (/* reexport */ onGitHub),
  pollIssue: () => (/* reexport */ pollIssue),
  pollIssueComments: () => (/* reexport */ pollIssueComments),
  readEventContext: () => (/* reexport */ readEventContext),
  readStateBlock: () => (/* reexport */ readStateBlock),
  renderStateBlock: () => (/* reexport */ renderStateBlock),
  toComment: () => (/* reexport */ toComment),
  toMarked: () => (/* reexport */ toMarked),
  tokenLogin: () => (/* reexport */ tokenLogin),
  updateMarkedIssue: () => (/* reexport */ updateMarkedIssue),
  withStateBlock: () => (/* reexport */ withStateBlock)
});

// EXTERNAL MODULE: ../../node_modules/.pnpm/@actions+github@9.1.1/node_modules/@actions/github/lib/github.js + 21 modules
var github = __webpack_require__(2087);
// EXTERNAL MODULE: ../../node_modules/.pnpm/@octokit+plugin-retry@8.1.1_@octokit+core@7.0.8/node_modules/@octokit/plugin-retry/dist-bundle/index.js
var dist_bundle = __webpack_require__(545);
// EXTERNAL MODULE: ../../node_modules/.pnpm/@octokit+plugin-throttling@11.0.5_@octokit+core@7.0.8/node_modules/@octokit/plugin-throttling/dist-bundle/index.js
var plugin_throttling_dist_bundle = __webpack_require__(6404);
// EXTERNAL MODULE: ../../node_modules/.pnpm/@octokit+request-error@7.1.2/node_modules/@octokit/request-error/dist-src/index.js
var dist_src = __webpack_require__(5318);
// EXTERNAL MODULE: ../../packages/kit/src/index.ts + 12 modules
var src = __webpack_require__(3104);
;// CONCATENATED MODULE: ../../packages/github/src/client.ts





/** Methods that change nothing, so a retry after a 5xx cannot apply a write twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The longest single rate-limit wait when no deadline is given. */
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;
/**
 * Octokit for every action that talks to GitHub, built with @actions/github's getOctokit (the
 * runner's proxy settings honoured) plus the throttling and retry plugins: the runner's API URL
 * (GHES), the token masked, rate limits waited out as GitHub says (Retry-After / reset) within
 * the step's deadline, and retries after 5xx only for idempotent requests — a POST that failed
 * with 502 may still have landed, so it is never replayed.
 *
 * Measured against the bare @octokit/core client it replaced (ncc --minify, same kit, 2026-11):
 * the bundle grows 18 KB (789 → 807 KB, +2.3%; undici is already there through @actions/core)
 * and cold start 4% (408 → 424 ms median of 25 interleaved runs; `node -e ''` 141 ms) — no
 * reason to pass on the proxy support and the context it brings.
 */
function createGitHubClient(options) {
    (0,src/* registerSecret */.cl)(options.token);
    const log = options.log ?? { warn: () => { } };
    const clock = options.clock ?? src/* systemClock */.ml;
    const rateLimitRetries = options.rateLimitRetries ?? 2;
    const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
    const onLimit = (kind) => async (retryAfter, request, _octokit, retryCount) => {
        const waitMs = Math.max(0, retryAfter) * 1000;
        const what = `GitHub ${kind} rate limit on ${request.method} ${request.url}`;
        if (retryCount >= rateLimitRetries) {
            log.warn(`${what}; giving up after ${retryCount + 1} attempts`);
            return false;
        }
        if (options.deadline !== undefined ? clock.now() + waitMs > options.deadline : waitMs > maxWaitMs) {
            log.warn(`${what}; giving up: waiting ${retryAfter} s would pass the step's deadline`);
            return false;
        }
        log.warn(`${what}; retrying in ${retryAfter} s`);
        // The wait happens here, on the injectable clock; the plugin then retries at once.
        await clock.sleep(waitMs);
        return true;
    };
    const spacing = options.minWriteIntervalMs;
    const writeLimiter = spacing === undefined ? undefined : spacedLimiter(spacing, clock);
    const octokit = (0,github/* getOctokit */.Q)(options.token, {
        baseUrl: (options.baseUrl ?? (0,src/* readRunContext */.$p)().apiUrl).replace(/\/$/, ''),
        userAgent: 'deploy-suite',
        retry: {
            retries: options.retries ?? 3,
            retryAfterBaseValue: options.retryBaseMs ?? 1000,
            doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451],
        },
        throttle: {
            // The plugin awaits these handlers (its types say void), so the wait can run on our clock.
            // eslint-disable-next-line @typescript-eslint/no-misused-promises
            onRateLimit: onLimit('primary'),
            // eslint-disable-next-line @typescript-eslint/no-misused-promises
            onSecondaryRateLimit: onLimit('secondary'),
            retryAfterBaseValue: 0,
            // A Bottleneck group in the plugin's types; it only ever calls key() and schedule().
            ...(writeLimiter ? { write: writeLimiter, notifications: writeLimiter } : {}),
        },
    }, dist_bundle/* retry */.L, plugin_throttling_dist_bundle/* throttling */.A);
    octokit.hook.before('request', (request) => {
        if (!IDEMPOTENT.has(request.method.toUpperCase()))
            request.request = { ...request.request, retries: 0 };
    });
    return octokit;
}
/**
 * The shape the throttling plugin schedules writes on (a Bottleneck group): one at a time, at
 * least minTimeMs apart, timed on the given clock.
 */
function spacedLimiter(minTimeMs, clock) {
    let tail = Promise.resolve();
    let last = -Infinity;
    const limiter = {
        key: () => limiter,
        schedule(_options, task, ...args) {
            const run = tail.then(async () => {
                const wait = last + minTimeMs - clock.now();
                if (wait > 0)
                    await clock.sleep(wait);
                last = clock.now();
                return task(...args);
            });
            tail = run.catch(() => undefined);
            return run;
        },
    };
    return limiter;
}
/**
 * A conditional GET for polling: sends If-None-Match, and turns the 304 that Octokit throws into
 * { changed: false }. A 304 does not count against the rate limit.
 */
async function getIfChanged(octokit, route, parameters, etag) {
    try {
        const response = await octokit.request(route, {
            ...parameters,
            headers: etag === undefined ? {} : { 'if-none-match': etag },
        });
        return { changed: true, etag: response.headers.etag, data: response.data, link: response.headers.link };
    }
    catch (error) {
        if (isNotModified(error))
            return { changed: false, etag, data: undefined };
        throw error;
    }
}
function isNotModified(error) {
    return error instanceof dist_src/* RequestError */.G && error.status === 304;
}

;// CONCATENATED MODULE: ../../packages/github/src/context.ts

/**
 * Reads the event, the actor and the triggering actor from @actions/github's context. The
 * context has no triggering actor, so it comes from the runner's GITHUB_TRIGGERING_ACTOR (or the
 * workflow_run payload's), falling back to the actor.
 */
function readEventContext(source = github/* context */._, env = process.env) {
    const workflowRun = source.payload.workflow_run;
    const fromPayload = workflowRun?.triggering_actor?.login;
    const actor = source.actor ?? '';
    return {
        eventName: source.eventName ?? '',
        actor,
        triggeringActor: env.GITHUB_TRIGGERING_ACTOR || (typeof fromPayload === 'string' && fromPayload !== '' ? fromPayload : actor),
        payload: source.payload ?? {},
    };
}

;// CONCATENATED MODULE: ../../packages/github/src/errors.ts


/** GitHub's API answered badly or not at all: names what was being done, and the next step. */
class GitHubApiError extends src/* RemoteError */.Hi {
    name = 'GitHubApiError';
    /** The HTTP status, or undefined when no answer came (Octokit reports that as 500 without a response). */
    status;
    constructor(message, status, options) {
        super(message, options);
        this.status = status;
    }
}
/**
 * Turns an Octokit RequestError into a GitHubApiError that says what failed, what GitHub said and
 * what to do next. Anything else (a bug) is returned unchanged so it keeps its stack.
 */
function gitHubFailure(error, failure) {
    if (!(error instanceof dist_src/* RequestError */.G))
        return error;
    const answered = error.response !== undefined;
    const status = answered ? error.status : undefined;
    const said = (0,src/* redact */.E$)(remoteMessage(error));
    const head = `GitHub API: ${failure.doing} failed: ${answered ? `${error.status} ${said}` : `no answer (${said})`}.`;
    const hint = status === undefined ? undefined : failure.hints?.[status];
    let next;
    if (hint !== undefined)
        next = hint;
    else if (status === 401)
        next = 'The token was refused: check the token input (expired, revoked or mistyped).';
    else if (status === 403 || status === 429)
        next =
            /rate limit/i.test(said) || status === 429
                ? "GitHub's rate limit held past the step's deadline: wait for it to reset, then re-run the job."
                : 'The token lacks a permission: grant it in the workflow\'s "permissions:" block (or use a token that has it).';
    else if (status === 404)
        next = "Not found, or the token cannot see it: check the names and the token's repository access.";
    else if (status === 422)
        next = 'GitHub rejected the request as invalid; check the values passed.';
    else if (failure.write)
        next = `The write may have landed all the same: ${failure.write.check} before trying again. See https://www.githubstatus.com.`;
    else
        next = 'GitHub may be having trouble (see https://www.githubstatus.com); re-run the job later.';
    return new GitHubApiError(`${head} ${next}`, status, { cause: error });
}
function remoteMessage(error) {
    const data = error.response?.data;
    const message = typeof data?.message === 'string' ? data.message : error.message;
    // A remote's words are untrusted: one line, bounded.
    return message.replace(/\s+/g, ' ').slice(0, 300);
}
/** Runs a GitHub call and reports its failure as a GitHubApiError. */
async function onGitHub(failure, call) {
    try {
        return await call();
    }
    catch (error) {
        throw gitHubFailure(error, failure);
    }
}

;// CONCATENATED MODULE: ../../packages/github/src/pages.ts

/** ETags and bodies of every page of one list, kept between polls. */
class PageCache {
    pages = new Map();
}
/**
 * Reads every page of a list with conditional requests: each page sends the ETag it had last
 * time, a 304 reuses the cached page (and costs no rate limit), and a page that changed replaces
 * it. Every page is read each time, so an edit deep in the list is seen, not only new items.
 */
async function listAllIfChanged(octokit, route, parameters, cache, perPage = 100, 
/** Stops after a page this accepts (a list sorted newest first needs no page past its window). */
enough) {
    const items = [];
    let changed = false;
    let requests = 0;
    let notModified = 0;
    for (let page = 1;; page++) {
        const cached = cache.pages.get(page);
        let current;
        requests++;
        const answer = await getIfChanged(octokit, route, { ...parameters, per_page: perPage, page }, cached?.etag);
        if (answer.changed) {
            if (!Array.isArray(answer.data))
                throw new TypeError(`${route} answered with something other than a list`);
            current = { etag: answer.etag, data: answer.data, hasNext: /\brel="next"/.test(answer.link ?? '') };
            changed = true;
        }
        else {
            // A 304 comes only for the ETag sent, so the page it refers to is in the cache.
            notModified++;
            current = cached;
        }
        cache.pages.set(page, current);
        items.push(...current.data);
        if (current.hasNext && enough?.(current.data) === true)
            return { changed, items, requests, notModified };
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

;// CONCATENATED MODULE: ../../packages/github/src/issues.ts



const where = (repo, number) => `${repo.owner}/${repo.repo}#${number}`;
function toComment(raw) {
    return {
        id: Number(raw.id),
        body: raw.body ?? '',
        author: raw.user ? { login: raw.user.login, type: raw.user.type } : undefined,
        createdAt: raw.created_at,
        updatedAt: raw.updated_at,
        edited: raw.updated_at !== raw.created_at,
        url: raw.html_url,
    };
}
/** Every comment of an issue, oldest first, every page read. */
async function listIssueComments(octokit, repo, number) {
    const raw = await onGitHub({ doing: `listing the comments of ${where(repo, number)}` }, () => octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: number, per_page: 100 }));
    return raw.map(toComment);
}
/**
 * Every comment of an issue for polling: each page conditional on its ETag (see PageCache), so
 * a poll where nothing changed costs no rate limit. Keep the cache between polls.
 */
async function pollIssueComments(octokit, repo, number, cache) {
    const polled = await onGitHub({ doing: `reading the comments of ${where(repo, number)}` }, () => listAllIfChanged(octokit, 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: number }, cache));
    return { ...polled, items: polled.items.map(toComment) };
}
async function addIssueComment(octokit, repo, number, body) {
    const { data } = await onGitHub({
        doing: `commenting on ${where(repo, number)}`,
        write: { check: `look for the comment on ${where(repo, number)}` },
    }, () => octokit.rest.issues.createComment({ ...repo, issue_number: number, body }));
    return toComment(data);
}
/** Adds labels (those already there stay); GitHub creates a label that does not exist yet. */
async function addLabels(octokit, repo, number, labels) {
    if (labels.length === 0)
        return;
    await onGitHub({
        doing: `adding labels ${labels.join(', ')} to ${where(repo, number)}`,
        write: { check: `look at the labels of ${where(repo, number)}` },
    }, () => octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels }));
}
const BLOCK = /<!--\s*deploy-suite:state\s+(\{[\s\S]*?\})\s*-->/;
/** The machine-readable block: JSON in an HTML comment, with < and > escaped so it cannot end early. */
function renderStateBlock(key, data) {
    const json = JSON.stringify({ key, data }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
    return `<!-- deploy-suite:state ${json} -->`;
}
/** The block's key and data, or undefined when the body has none or it does not parse. */
function readStateBlock(body) {
    const match = BLOCK.exec(body ?? '');
    if (!match)
        return undefined;
    try {
        const parsed = JSON.parse(match[1]);
        if (typeof parsed !== 'object' || parsed === null)
            return undefined;
        const { key, data } = parsed;
        return typeof key === 'string' ? { key, data } : undefined;
    }
    catch {
        return undefined;
    }
}
/** The body with its block replaced (or appended when it has none). */
function withStateBlock(body, key, data) {
    const block = renderStateBlock(key, data);
    return BLOCK.test(body) ? body.replace(BLOCK, () => block) : `${body.replace(/\s+$/, '')}\n\n${block}\n`;
}
function toMarked(raw) {
    const block = readStateBlock(raw.body);
    if (!block)
        return undefined;
    return {
        number: raw.number,
        url: raw.html_url,
        state: raw.state === 'closed' ? 'closed' : 'open',
        title: raw.title,
        body: raw.body ?? '',
        labels: raw.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))),
        author: raw.user?.login,
        createdAt: raw.created_at,
        key: block.key,
        data: block.data,
    };
}
/** The oldest issue (open or closed) with the marker's label, key and author, or undefined. */
async function findMarkedIssue(octokit, repo, marker) {
    const raw = await onGitHub({ doing: `listing the issues labelled ${marker.label} in ${repo.owner}/${repo.repo}` }, () => octokit.paginate(octokit.rest.issues.listForRepo, {
        ...repo,
        labels: marker.label,
        state: 'all',
        per_page: 100,
    }));
    const found = raw
        .filter((issue) => issue.pull_request === undefined)
        .filter((issue) => marker.author === undefined || issue.user?.login === marker.author)
        .map(toMarked)
        .filter((issue) => issue?.key === marker.key)
        .sort((a, b) => a.number - b.number);
    return found[0];
}
/**
 * Finds the marker's issue, or opens it exactly once: a re-run finds and reuses it; a create
 * that failed without an answer is looked for again rather than sent again (it may have
 * landed); and when two runs raced, the newer twin is closed as a duplicate and the older
 * one returned.
 */
async function ensureMarkedIssue(octokit, repo, marker, issue) {
    const existing = await findMarkedIssue(octokit, repo, marker);
    if (existing)
        return { issue: existing, created: false };
    let made;
    try {
        const { data } = await octokit.rest.issues.create({
            ...repo,
            title: issue.title,
            body: withStateBlock(issue.body, marker.key, issue.data),
            labels: [marker.label, ...(issue.labels ?? []).filter((label) => label !== marker.label)],
        });
        made = toMarked(data);
    }
    catch (error) {
        const failure = gitHubFailure(error, {
            doing: `opening the issue "${issue.title}" in ${repo.owner}/${repo.repo}`,
            write: { check: `look for an issue labelled ${marker.label}` },
        });
        // A 5xx or a dropped connection may hide an issue that was made: look before failing.
        const status = failure.status;
        if (status === undefined || status >= 500) {
            const landed = await findMarkedIssue(octokit, repo, marker).catch(() => undefined);
            if (landed)
                return { issue: landed, created: true };
        }
        throw failure;
    }
    if (!made)
        throw new Error(`the new issue in ${repo.owner}/${repo.repo} came back without its state block`);
    const number = made.number;
    const oldest = await findMarkedIssue(octokit, repo, marker);
    if (oldest && oldest.number < number) {
        await onGitHub({
            doing: `closing ${where(repo, number)}, a duplicate of #${oldest.number}`,
            write: { check: `look at ${where(repo, number)}` },
        }, () => octokit.rest.issues.update({ ...repo, issue_number: number, state: 'closed', state_reason: 'duplicate' }));
        return { issue: oldest, created: false };
    }
    return { issue: made, created: true };
}
/** Rewrites the block (and optionally the body, title and state) of a marked issue. */
async function updateMarkedIssue(octokit, repo, number, key, update) {
    const doing = `updating ${where(repo, number)}`;
    let current = update.body;
    if (current === undefined) {
        const { data } = await onGitHub({ doing: `reading ${where(repo, number)}` }, () => octokit.rest.issues.get({ ...repo, issue_number: number }));
        current = data.body ?? '';
    }
    const { data } = await onGitHub({ doing, write: { check: `look at ${where(repo, number)}` } }, () => octokit.rest.issues.update({
        ...repo,
        issue_number: number,
        body: withStateBlock(current, key, update.data),
        ...(update.title === undefined ? {} : { title: update.title }),
        ...(update.state === undefined ? {} : { state: update.state }),
        ...(update.labels === undefined ? {} : { labels: update.labels }),
    }));
    const marked = toMarked(data);
    if (!marked)
        throw new Error(`${where(repo, number)} came back without its state block`);
    return marked;
}
/** An issue's current state, read fresh (no cache): what a gate checks before it acts. */
async function getIssue(octokit, repo, number) {
    const { data } = await onGitHub({ doing: `reading ${where(repo, number)}` }, () => octokit.rest.issues.get({ ...repo, issue_number: number }));
    return data;
}
/**
 * Polls one issue with its ETag: undefined while nothing changed (a 304, free of rate limit), the
 * issue when anything did (a new or deleted comment, a label, the state, the body).
 */
async function pollIssue(octokit, repo, number, cache) {
    const answer = await onGitHub({ doing: `reading ${where(repo, number)}` }, () => getIfChanged(octokit, 'GET /repos/{owner}/{repo}/issues/{issue_number}', { ...repo, issue_number: number }, cache.etag));
    cache.etag = answer.etag;
    return answer.changed ? answer.data : undefined;
}
async function deleteIssueComment(octokit, repo, commentId) {
    await onGitHub({ doing: `deleting comment ${commentId} in ${repo.owner}/${repo.repo}`, write: { check: 'look for the comment' } }, () => octokit.rest.issues.deleteComment({ ...repo, comment_id: commentId }));
}

;// CONCATENATED MODULE: ../../packages/github/src/access.ts

/**
 * Logins of a team's members, every page read (child teams' members included, as GitHub lists
 * them). A team that does not exist, or that the token cannot see (the workflow's GITHUB_TOKEN
 * never can), is a GitHubApiError naming the team and the permission to grant — never an empty list.
 */
async function listTeamMembers(octokit, org, teamSlug) {
    const members = await onGitHub({
        doing: `listing the members of team ${org}/${teamSlug}`,
        hints: {
            404: `The team ${org}/${teamSlug} does not exist, or the token cannot see it: the workflow's GITHUB_TOKEN cannot read teams, so pass a token with the organization's "members: read" permission.`,
            403: `The token cannot read team ${org}/${teamSlug}: it needs the organization's "members: read" permission.`,
        },
    }, () => octokit.paginate(octokit.rest.teams.listMembersInOrg, { org, team_slug: teamSlug, per_page: 100 }));
    return members.map((member) => member.login);
}
const PERMISSIONS = new Set(['admin', 'write', 'read', 'none']);
/**
 * A user's permission on a repository now (not when they commented); a user who is not a
 * collaborator, or does not exist, has none. Any other failure is a GitHubApiError.
 */
async function getCollaboratorPermission(octokit, repo, username) {
    try {
        const { data } = await onGitHub({ doing: `reading the permission of ${username} on ${repo.owner}/${repo.repo}` }, () => octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username }));
        // What comes back is input: an unknown level counts as none (fail closed).
        const permission = PERMISSIONS.has(data.permission) ? data.permission : 'none';
        return { permission, roleName: data.role_name, canWrite: permission === 'admin' || permission === 'write' };
    }
    catch (error) {
        if (error.status === 404)
            return { permission: 'none', roleName: 'none', canWrite: false };
        throw error;
    }
}
/**
 * Starts a workflow_dispatch run. A write: never retried, since a dispatch that failed with a
 * 5xx may have started a run all the same.
 */
async function dispatchWorkflow(octokit, repo, request) {
    await onGitHub({
        doing: `dispatching workflow ${request.workflow} on ${request.ref} in ${repo.owner}/${repo.repo}`,
        write: { check: `look in the Actions tab for a new run of ${request.workflow}` },
        hints: {
            404: `Workflow ${request.workflow} was not found in ${repo.owner}/${repo.repo}, or the token cannot see it.`,
            422: `GitHub refused the dispatch: ${request.workflow} must declare "on: workflow_dispatch" with these inputs on ${request.ref}.`,
            403: 'The token cannot dispatch workflows: grant "actions: write" in the workflow\'s "permissions:" block.',
        },
    }, () => octokit.rest.actions.createWorkflowDispatch({
        ...repo,
        workflow_id: request.workflow,
        ref: request.ref,
        ...(request.inputs === undefined ? {} : { inputs: request.inputs }),
    }));
}
/**
 * The login the token acts as. A personal token can read it (GET /user); an installation token
 * (the workflow's GITHUB_TOKEN, a GitHub App's) cannot, and acts as its app's bot, so the caller
 * names that bot (github-actions[bot] for GITHUB_TOKEN).
 */
async function tokenLogin(octokit, appBot) {
    try {
        const { data } = await octokit.rest.users.getAuthenticated();
        return data.login;
    }
    catch (error) {
        const status = error.status;
        if (status === 403 || status === 404)
            return appBot;
        throw gitHubFailure(error, { doing: 'reading which account the token acts as' });
    }
}
/** The files changed between two commits, as GitHub's compare API lists them (at most 300). */
async function compareCommits(octokit, repo, base, head) {
    const { data } = await onGitHub({
        doing: `comparing ${base.slice(0, 12)}...${head.slice(0, 12)} in ${repo.owner}/${repo.repo}`,
        hints: {
            404: `One of the commits ${base} or ${head} is not in ${repo.owner}/${repo.repo}, or the token cannot read its contents.`,
        },
    }, () => octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...${head}`, per_page: 1 }));
    const files = (data.files ?? []).map((file) => ({
        filename: file.filename,
        additions: file.additions,
        deletions: file.deletions,
    }));
    return { url: data.html_url, files, truncated: files.length >= 300 };
}
/**
 * The commit of the newest deployment to an environment whose latest status is success, looked
 * for among its 30 newest deployments; undefined when there is none.
 */
async function lastSuccessfulDeploymentSha(octokit, repo, environment) {
    const { data: deployments } = await onGitHub({ doing: `listing the deployments to ${environment} in ${repo.owner}/${repo.repo}` }, () => octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }));
    for (const deployment of deployments) {
        const { data: statuses } = await onGitHub({ doing: `reading the statuses of deployment ${deployment.id}` }, () => octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: deployment.id, per_page: 1 }));
        if (statuses[0]?.state === 'success')
            return deployment.sha;
    }
    return undefined;
}
/**
 * Who wrote a commit, as GitHub knows it: the author and committer accounts (not GitHub's own
 * web-flow) and the authors of the pull requests that hold it. Read from GitHub, not from
 * anything a person can edit, so a gate can keep them from approving their own change. A
 * commit GitHub does not know gives an empty list.
 */
async function commitAuthors(octokit, repo, sha) {
    const logins = new Set();
    try {
        const { data } = await octokit.rest.repos.getCommit({ ...repo, ref: sha });
        for (const who of [data.author, data.committer]) {
            if (who && 'login' in who && who.login !== 'web-flow')
                logins.add(who.login.toLowerCase());
        }
    }
    catch (error) {
        const status = error.status;
        if (status === 404 || status === 422)
            return [];
        throw gitHubFailure(error, { doing: `reading commit ${sha.slice(0, 12)}` });
    }
    const pulls = await onGitHub({ doing: `listing the pull requests of commit ${sha.slice(0, 12)}` }, () => octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha, per_page: 100 }));
    for (const pull of pulls.data)
        if (pull.user?.login)
            logins.add(pull.user.login.toLowerCase());
    return [...logins];
}

;// CONCATENATED MODULE: ../../packages/github/src/index.ts








/***/ }),

/***/ 7531:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  CONTRACT_MIGRATIONS_MARK: () => (/* reexport */ CONTRACT_MIGRATIONS_MARK),
  DeploymentRecordError: () => (/* reexport */ DeploymentRecordError),
  RECORD_VERSION: () => (/* reexport */ RECORD_VERSION),
  commitLastServing: () => (/* reexport */ commitLastServing),
  contractMigrationsRan: () => (/* reexport */ contractMigrationsRan),
  createDeploymentRecord: () => (/* reexport */ createDeploymentRecord),
  currentDeployment: () => (/* reexport */ currentDeployment),
  deploymentPayloadV1: () => (/* reexport */ deploymentPayloadV1),
  lastSwitch: () => (/* reexport */ lastSwitch),
  markContractMigrations: () => (/* reexport */ markContractMigrations),
  readDeploymentRecord: () => (/* reexport */ readDeploymentRecord),
  setDeploymentStatus: () => (/* reexport */ setDeploymentStatus),
  stateOf: () => (/* reexport */ stateOf)
});

// EXTERNAL MODULE: ../../packages/github/src/index.ts + 6 modules
var src = __webpack_require__(1047);
// EXTERNAL MODULE: ../../packages/kit/src/index.ts + 12 modules
var kit_src = __webpack_require__(3104);
// EXTERNAL MODULE: ../../node_modules/.pnpm/zod@4.6.7/node_modules/zod/v4/classic/schemas.js + 17 modules
var schemas = __webpack_require__(6585);
;// CONCATENATED MODULE: ../../packages/record/src/deployment-record.ts



/**
 * The deployment record: one GitHub Deployment per environment and switch, whose payload holds
 * the facts fixed when it was made (what was deployed, which colour it made live, and the exact
 * router state before it), and whose statuses carry what happened (in_progress, success,
 * failure, inactive), so the repository's Environments page shows what runs where. Versioned:
 * every payload carries `deploySuiteRecord`, and a reader refuses a version it does not know.
 */
const RECORD_VERSION = 1;
const colour = schemas/* string */.YjP().regex(/^[a-z][a-z0-9-]{0,30}$/);
const weights = schemas/* record */.g1P(colour, schemas/* number */.aig().int().min(0).max(100));
const deploymentPayloadV1 = schemas/* strictObject */.rej({
    deploySuiteRecord: schemas/* literal */.euz(1),
    service: schemas/* string */.YjP().max(100).nullable(),
    sha: schemas/* string */.YjP().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/),
    artifactDigest: schemas/* string */.YjP().max(200).nullable(),
    router: schemas/* enum */.k5n(['nginx', 'kubernetes', 'aws-alb', 'command']),
    /** The colour this deployment made live (or rolled back to). */
    colour,
    /** The router's state before this deployment: what a rollback puts back. */
    previousWeights: weights,
    previousColour: colour.nullable(),
    /** The commit the previous colour runs, when a record of it was found: what a rollback deploys. */
    previousSha: schemas/* string */.YjP()
        .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)
        .nullable(),
    /** Set on a rollback's own record: the deployment it undid. */
    rolledBack: schemas/* number */.aig().int().positive().nullable(),
    changeRequest: schemas/* number */.aig().int().positive().nullable(),
});
/** Marks, in a status description, that the deployment's contract migrations ran: a rollback past it is unsafe. */
const CONTRACT_MIGRATIONS_MARK = 'deploy-suite: contract migrations applied';
class DeploymentRecordError extends kit_src/* ConfigurationError */.j1 {
    name = 'DeploymentRecordError';
}
/** Opens a deployment with its payload and an in_progress status. */
async function createDeploymentRecord(octokit, repo, input) {
    const payload = deploymentPayloadV1.parse(input.payload);
    const { data } = await (0,src.onGitHub)({
        doing: `recording a deployment to ${input.environment}`,
        write: { check: `look at the deployments of ${input.environment} in the Environments page` },
        hints: {
            403: 'The token cannot write deployments: grant "deployments: write" in the workflow\'s "permissions:" block.',
        },
    }, () => octokit.rest.repos.createDeployment({
        ...repo,
        ref: payload.sha,
        environment: input.environment,
        payload,
        description: input.description.slice(0, 140),
        auto_merge: false,
        // The switch is the deployment: the commit's checks were the gates before it.
        required_contexts: [],
        production_environment: /^prod(uction)?$/i.test(input.environment),
    }));
    if (!('id' in data))
        throw new DeploymentRecordError(`GitHub did not create the deployment: ${JSON.stringify(data).slice(0, 200)}`);
    await setDeploymentStatus(octokit, repo, data.id, 'in_progress', input.description, input.logUrl);
    return data.id;
}
async function setDeploymentStatus(octokit, repo, id, state, description, logUrl, environmentUrl) {
    await (0,src.onGitHub)({ doing: `marking deployment ${id} ${state}`, write: { check: `look at deployment ${id}'s statuses` } }, () => octokit.rest.repos.createDeploymentStatus({
        ...repo,
        deployment_id: id,
        state,
        description: description.slice(0, 140),
        // We post inactive ourselves, for the deployment this one replaced.
        auto_inactive: false,
        ...(logUrl ? { log_url: logUrl } : {}),
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
    }));
}
/** Marks that a deployment's contract-phase migrations ran (migrate calls this after contract). */
async function markContractMigrations(octokit, repo, id, logUrl) {
    await setDeploymentStatus(octokit, repo, id, 'success', CONTRACT_MIGRATIONS_MARK, logUrl);
}
/**
 * A deployment's record, read as untrusted input: the payload must match the version's schema
 * exactly, and only the token's own deployments count (anyone with deployments write could make
 * one with a payload of their choosing).
 */
async function toRecord(octokit, repo, raw) {
    const payload = typeof raw.payload === 'string' ? safeJson(raw.payload) : raw.payload;
    const parsed = deploymentPayloadV1.safeParse(payload);
    if (!parsed.success)
        return undefined;
    const { data } = await (0,src.onGitHub)({ doing: `reading the statuses of deployment ${raw.id}` }, () => octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: raw.id, per_page: 100 }));
    return {
        id: raw.id,
        environment: raw.environment,
        createdAt: raw.created_at,
        creator: raw.creator?.login,
        payload: parsed.data,
        statuses: data.map((status) => ({
            state: status.state,
            description: status.description ?? '',
            createdAt: status.created_at,
            creator: status.creator?.login,
        })),
    };
}
function safeJson(text) {
    try {
        return JSON.parse(text);
    }
    catch {
        return undefined;
    }
}
async function readDeploymentRecord(octokit, repo, id) {
    const { data } = await (0,src.onGitHub)({
        doing: `reading deployment ${id}`,
        hints: { 404: `Deployment ${id} does not exist in ${repo.owner}/${repo.repo}.` },
    }, () => octokit.rest.repos.getDeployment({ ...repo, deployment_id: id }));
    const record = await toRecord(octokit, repo, data);
    if (record === undefined) {
        throw new DeploymentRecordError(`Deployment ${id} holds no deploy-suite record of a version this action reads (version ${RECORD_VERSION}): it was not made by blue-green-switch, or by another version of it`);
    }
    return record;
}
/**
 * The environment's current deployment: the newest of the token's own records whose latest
 * status is success (an inactive, failed or unfinished one is not what runs), among the 30 newest.
 */
function currentDeployment(octokit, repo, environment, author) {
    return newestDeployment(octokit, repo, environment, author, ['success']);
}
/**
 * The deployment a rollback undoes: the newest of the token's own records that may have moved
 * traffic and was not undone — a success, but also a switch cut off mid-way (still
 * in_progress) or one that failed (its automatic rollback may have been off). Inactive ones were
 * replaced or rolled back; errored ones never touched the router.
 */
function lastSwitch(octokit, repo, environment, author) {
    return newestDeployment(octokit, repo, environment, author, ['success', 'in_progress', 'failure']);
}
/** The state a record is in: its latest status other than the contract-migrations mark. */
function stateOf(record) {
    return (record.statuses.find((status) => status.description !== CONTRACT_MIGRATIONS_MARK) ?? record.statuses[0])
        ?.state;
}
async function newestDeployment(octokit, repo, environment, author, states) {
    const { data } = await (0,src.onGitHub)({ doing: `listing the deployments to ${environment}` }, () => octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }));
    for (const raw of data) {
        if (author !== undefined && raw.creator?.login !== author)
            continue;
        const record = await toRecord(octokit, repo, raw);
        if (record === undefined)
            continue;
        const state = stateOf(record);
        if (state !== undefined && states.includes(state))
            return record;
    }
    return undefined;
}
/** Whether the record says the deployment's contract migrations ran. */
function contractMigrationsRan(record) {
    return record.statuses.some((status) => status.state === 'success' && status.description === CONTRACT_MIGRATIONS_MARK);
}
/**
 * The commit a colour last ran, from the newest of the token's own records before `beforeId`
 * that made that colour live: what a rollback to the colour deploys again.
 */
async function commitLastServing(octokit, repo, environment, author, colour, beforeId) {
    const { data } = await (0,src.onGitHub)({ doing: `listing the deployments to ${environment}` }, () => octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }));
    for (const raw of data) {
        if (raw.id >= beforeId || (author !== undefined && raw.creator?.login !== author))
            continue;
        const parsed = deploymentPayloadV1.safeParse(typeof raw.payload === 'string' ? safeJson(raw.payload) : raw.payload);
        if (parsed.success && parsed.data.colour === colour)
            return parsed.data.sha;
    }
    return undefined;
}

;// CONCATENATED MODULE: ../../packages/record/src/index.ts



/***/ })

};
