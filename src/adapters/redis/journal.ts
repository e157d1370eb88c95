import type { ChainableCommander } from "ioredis";
import type { Changes, LoadRequest } from "../../app/durable-state.js";
import type { RedisClient, stateKeys } from "./keys.js";
import type { RedisIo, Write } from "./io.js";
import { RPUSH_ONCE, bySlot } from "./io.js";

type Keys = ReturnType<typeof stateKeys>;
type Position = NonNullable<Changes["log"]>;

/** The position write: created by a batch that starts the state, else only over one already recorded (SET XX). */
export const setPosition = (k: Keys, log: Position) => (m: ChainableCommander) =>
  log.create ? m.set(k.log(log), log.through) : m.set(k.log(log), log.through, "XX");

/**
 * Redis Cluster: a batch's writes span slots, and a MULTI holds one slot. So the batch's
 * writes go first to a journal in the slot of its log position, then to their slots, and
 * last the position is written and the journal deleted, in one MULTI. A crash in between
 * leaves the journal: the next load of that partition applies it again (appends only where
 * the list does not hold them yet, baseline deltas only where their partition's offset is
 * not merged yet) before reading anything, so the state is the batch's
 * whole or nothing, as on one server.
 */
export async function rollForward(
  redis: RedisClient,
  io: RedisIo,
  k: Keys,
  log: NonNullable<LoadRequest["log"]>,
  text: string,
  onRolledForward?: (writes: number) => void,
): Promise<void> {
  const { transaction } = io;
  const journalKey = k.journal(log);
  const j = JSON.parse(text) as { through: string; create: boolean; writes: Write[] };
  await Promise.all(
    bySlot(j.writes, true).map(async (group) => {
      for (const i of group) {
        const w = j.writes[i] as Write;
        for (const op of w.ops) {
          if (op.c === "rpush") await redis.eval(RPUSH_ONCE, 1, op.key, op.value, op.keep, op.ex ?? "");
          else await transaction([{ key: w.key, ops: [op] }]);
        }
      }
    }),
  );
  await transaction([], (m) => setPosition(k, { ...log, through: j.through, create: j.create })(m).del(journalKey));
  onRolledForward?.(j.writes.length);
}

/** A cluster batch's writes: journal first, then every slot at once, then the position with the journal deleted. */
export async function persistJournaled(io: RedisIo, k: Keys, writes: readonly Write[], log: Position | undefined): Promise<void> {
  const { transaction } = io;
  if (log) {
    const journalKey = k.journal(log);
    await transaction([], (m) => m.set(journalKey, JSON.stringify({ through: log.through, create: log.create, writes })));
  }
  await Promise.all(bySlot(writes, true).map((group) => transaction(group.map((i) => writes[i] as Write))));
  if (log) await transaction([], (m) => setPosition(k, log)(m).del(k.journal(log)));
}
