// standin/waiters.ts: what the Telegram and LLM stand-ins hand a test waiting for a call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Waiters } from "../../standin/waiters";

test("resolves with a recorded match at once, else with the first later one; only matching waiters are woken", async () => {
    const waiters = new Waiters<number>();
    assert.equal(
        await waiters.waitFor(
            [1, 4, 6],
            (n) => n % 2 === 0,
            60_000,
            () => "never",
        ),
        4,
    );
    const even = waiters.waitFor(
        [1],
        (n) => n % 2 === 0,
        60_000,
        () => "no even number",
    );
    const big = waiters.waitFor(
        [],
        (n) => n > 100,
        60_000,
        () => "no big number",
    );
    waiters.settle(3);
    waiters.settle(8);
    assert.equal(await even, 8);
    waiters.settle(101);
    assert.equal(await big, 101);
});

test("rejects with the stand-in's account when nothing matches, and forgets the waiter", async () => {
    const waiters = new Waiters<string>();
    await assert.rejects(
        waiters.waitFor(
            ["a"],
            (s) => s === "z",
            10,
            () => "recorded: a",
        ),
        /^Error: recorded: a$/,
    );
    waiters.settle("z"); // nothing left waiting: no late resolve of a settled promise
});
