import { InMemoryDurableState } from "../../src/app/in-memory-durable-state.js";
import { durableStateContract } from "./durable-state.contract.js";

durableStateContract("in-memory", async () => ({ state: new InMemoryDurableState() }));
