import { BatchStore } from "../../src/app/batch-store.js";
import { InMemoryStateStore } from "../../src/app/in-memory-store.js";
import { stateStoreContract } from "./state-store.contract.js";

stateStoreContract("in-memory (replay)", () => new InMemoryStateStore());
stateStoreContract(
  "batch overlay (live), on an empty load",
  () => new BatchStore("vigil.events", 0, new Map(), { sessions: new Map(), baselines: new Map(), sod: new Map() }),
);
