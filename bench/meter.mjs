// Loaded into `vigil start` by the bench (`node --import ./bench/meter.mjs`, bench/live.mjs):
// what the processor itself sends to and receives from Redis and the broker, counted in the
// process, so the figures are its own on a Redis and a broker other runs share (no MONITOR,
// no server-wide INFO deltas). Serves one JSON snapshot on 127.0.0.1:$VIGIL_BENCH_METER_PORT:
//   sockets: { "<remote port>": { bytesIn, bytesOut, connections } }, every outgoing TCP
//     connection since start (Node's own socket.bytesRead / bytesWritten, closed ones included);
//   redis: { commands, byCommand, byKey }, every command ioredis sent (a MULTI/EXEC block
//     counts MULTI, each command and EXEC, as Redis's own commandstats do); byKey by command
//     and kind of key ("set session", "rpush sod": the word after $VIGIL_REDIS_PREFIX), with
//     the characters of their arguments (what a session snapshot or a ledger record weighs).
//   threads: { main, other }, the process's CPU seconds on its main thread and on the others
//     (bench/threads.mjs).
// The cost on the measured process: a few counters per Redis command and a listener per
// connection; nothing per byte.
import { createServer } from "node:http";
import net from "node:net";
import { Redis } from "ioredis";
import { threadCpu } from "./threads.mjs";

const port = Number(process.env.VIGIL_BENCH_METER_PORT);
const closed = new Map();
const open = new Set();
const byCommand = new Map();
const byKey = new Map();
const prefix = process.env.VIGIL_REDIS_PREFIX ?? "vigil:";

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  if (!open.has(this)) {
    open.add(this);
    this.once("connect", () => {
      this.benchRemotePort = this.remotePort;
    });
    this.once("close", () => {
      open.delete(this);
      add(closed, this);
    });
  }
  return connect.apply(this, args);
};

function add(totals, socket) {
  const key = String(socket.benchRemotePort ?? "unconnected");
  const t = totals.get(key) ?? { bytesIn: 0, bytesOut: 0, connections: 0 };
  t.bytesIn += socket.bytesRead;
  t.bytesOut += socket.bytesWritten;
  t.connections += 1;
  totals.set(key, t);
}

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, ...rest) {
  byCommand.set(command.name, (byCommand.get(command.name) ?? 0) + 1);
  const key = command.args[0];
  if (typeof key === "string" && key.startsWith(prefix)) {
    const name = `${command.name} ${key.slice(prefix.length).split(/[:{]/)[0]}`;
    const entry = byKey.get(name) ?? byKey.set(name, { count: 0, chars: 0 }).get(name);
    entry.count += 1;
    for (const a of command.args) entry.chars += typeof a === "string" ? a.length : (a?.length ?? 0);
  }
  return sendCommand.call(this, command, ...rest);
};

function snapshot() {
  const totals = new Map([...closed].map(([k, v]) => [k, { ...v }]));
  for (const s of open) add(totals, s);
  let commands = 0;
  for (const n of byCommand.values()) commands += n;
  return {
    threads: threadCpu(),
    sockets: Object.fromEntries(totals),
    redis: { commands, byCommand: Object.fromEntries(byCommand), byKey: Object.fromEntries([...byKey].map(([k, v]) => [k, { ...v }])) },
  };
}

if (Number.isInteger(port) && port > 0) {
  const server = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(snapshot()));
  });
  server.listen(port, "127.0.0.1");
  server.unref();
}
