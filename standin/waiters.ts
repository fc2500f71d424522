// Promises for "the first recorded item that matches, now or later", shared by the stand-ins that record what they
// were sent (standin/telegram.ts, standin/llm.ts): a test waits for the call it expects and, if it never comes, gets
// the stand-in's own account of what did.

export class Waiters<T> {
    private pending: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

    /** The first item of `seen` that `match` accepts, else the first one `settle` is given later; rejects with
     *  `describe()` after `timeoutMs`. */
    waitFor(seen: readonly T[], match: (item: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
        const found = seen.find(match);
        if (found !== undefined) return Promise.resolve(found);
        return new Promise((resolve, reject) => {
            const waiter = {
                match,
                resolve: (item: T) => {
                    clearTimeout(timer);
                    resolve(item);
                },
            };
            const timer = setTimeout(() => {
                this.pending = this.pending.filter((w) => w !== waiter);
                reject(new Error(describe()));
            }, timeoutMs);
            this.pending.push(waiter);
        });
    }

    /** A new item: every waiter it matches is resolved (and forgotten). */
    settle(item: T): void {
        for (const waiter of [...this.pending]) {
            if (waiter.match(item)) {
                this.pending = this.pending.filter((w) => w !== waiter);
                waiter.resolve(item);
            }
        }
    }
}
