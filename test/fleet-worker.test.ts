// The fleet planner through the worker API (a Node worker thread running the
// built library): the same joint plan as in-process, per-image budgets by id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createNodeWorker } from "../dist/worker/node.js";
import type { StrataWorker } from "../dist/worker/client.js";
import { planFleet } from "../src/fleet/plan.js";
import { readClosureInput } from "../src/io/node.js";
import { sharedPath } from "./helpers/shared.js";

const names = ["python-scipy", "postgresql", "openjdk17-maven"];
const file = (n: string) => sharedPath("data/debian-bookworm", `img-${n}.json.gz`);

describe("StrataWorker.fleet", () => {
  let worker: StrataWorker;
  beforeAll(async () => {
    worker = await createNodeWorker();
  });
  afterAll(() => worker.terminate());

  it("plans loaded closures jointly, identical to planFleet in this thread", async () => {
    const ids: number[] = [];
    for (const n of names) ids.push((await worker.load(new Uint8Array(readFileSync(file(n))), n)).id);
    const remote = await worker.fleet(ids, { budget: 10 }, { [ids[1]]: 4 });
    const images = [];
    for (const n of names) images.push({ name: n, doc: await readClosureInput(file(n)), budget: n === "postgresql" ? 4 : undefined });
    const local = planFleet(images, { budget: 10 });
    expect(remote.images.map((i) => i.layers)).toEqual(local.images.map((i) => i.layers));
    expect(remote.summary).toEqual(local.summary);
    expect(remote.images[1].layers.length).toBeLessThanOrEqual(4);
    for (const id of ids) await worker.release(id);
  });

  it("reports a bad budget as a typed error", async () => {
    const id = (await worker.load(new Uint8Array(readFileSync(file("postgresql"))), "pg")).id;
    await expect(worker.fleet([id], { budget: 0 })).rejects.toThrow(/at least 1/);
    await worker.release(id);
  });
});
