import { inMemorySsfStore } from "../../src/app/in-memory-ssf-store.js";
import { ssfStoreContract } from "./ssf-store.contract.js";

ssfStoreContract("in-memory", async () => ({ store: inMemorySsfStore(() => Date.now()) }));
