// scripts/stack itself (npm run stack:up / stack:status): it reports the running stack,
// a second `up` is a quick no-op, and a port taken by something else fails fast, naming the
// port, before anything is resolved or started.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redisClusterNodes, repoRoot, stackScript } from "../support/stack-env.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runStack(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [stackScript, ...args], { cwd: repoRoot, env: { ...process.env, ...extraEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`stack ${args.join(" ")} hung for ${timeoutMs}ms\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

interface Squatter {
  port: number;
  close(): Promise<void>;
}

/** A TCP listener that accepts connections and never answers: not Kafka, not a registry. */
function dummyListener(): Promise<Squatter> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    });
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      resolve({
        port: addr.port,
        // server.close() waits for open connections: end them first
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            srv.close(() => done());
          }),
      });
    });
  });
}

const tmpDirs: string[] = [];
function tmpStackDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-stack-test-"));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

interface StatusRow {
  service: string;
  state: string;
  owner: string;
  address: string;
}

describe("scripts/stack", () => {
  it("status reports kafka, registry and redis up, and the Redis Cluster when asked (the global setup started it)", async () => {
    const r = await runStack(["status", "--json", "--redis-cluster"]);
    expect(r.stderr).toBe("");
    const rows = JSON.parse(r.stdout) as StatusRow[];
    expect(rows.map((x) => [x.service, x.state])).toEqual([
      ["kafka", "up"],
      ["registry", "up"],
      ["redis", "up"],
      ["redis-cluster", "up"],
    ]);
    expect(r.code).toBe(0);
    const table = await runStack(["status", "--redis-cluster"]);
    expect(table.stdout).toMatch(/^kafka\s+up\s/m);
    expect(table.stdout).toMatch(/^registry\s+up\s/m);
    expect(table.stdout).toMatch(/^redis\s+up\s/m);
    expect(table.stdout).toMatch(/^redis-cluster\s+up\s/m);
  });

  it("`up --redis-cluster` a second time is a quick no-op, and the cluster takes writes on every master", async () => {
    const r = await runStack(["up", "redis-cluster"]);
    expect(r.code, r.stderr).toBe(0);
    // "running" when this checkout's stack started it, "answering" when another checkout's did.
    expect(r.stdout).toMatch(/redis-cluster: already (running|answering) at 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/);
    const port = Number(redisClusterNodes[0]?.split(":")[1]);
    const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" }).stdout;
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_known_nodes:3/);
    expect(info).toMatch(/cluster_slots_assigned:16384/);
  });

  it("`up` a second time is a quick no-op success", async () => {
    const r = await runStack(["up"]);
    expect(r.code, r.stderr).toBe(0);
    for (const svc of ["kafka", "registry", "redis"]) {
      expect(r.stdout).toMatch(new RegExp(`${svc}: already (running|answering)`));
    }
    expect(r.stdout).not.toMatch(/starting|resolving/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it("fails fast, naming the port, when the Kafka port is taken by something else", async () => {
    const squatter = await dummyListener();
    const dir = tmpStackDir();
    try {
      const r = await runStack(["up", "kafka"], { VIGIL_STACK_DIR: dir, VIGIL_STACK_KAFKA_PORT: String(squatter.port) }, 30_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`port ${squatter.port}`);
      expect(r.stderr).toMatch(/already taken/);
      expect(r.ms).toBeLessThan(10_000);
      // nothing was resolved or started in that stack dir
      expect(fs.existsSync(path.join(dir, "run", "kafka.pid"))).toBe(false);
      expect(fs.readdirSync(dir).filter((f) => f !== "logs" && f !== "run")).toEqual([]);
    } finally {
      await squatter.close();
    }
  });

  it("fails fast, naming the port, when the registry port is taken by something else", async () => {
    const squatter = await dummyListener();
    const dir = tmpStackDir();
    try {
      const r = await runStack(["up", "registry"], { VIGIL_STACK_DIR: dir, VIGIL_STACK_REGISTRY_PORT: String(squatter.port) }, 30_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`port ${squatter.port}`);
      expect(r.ms).toBeLessThan(10_000);
      expect(fs.existsSync(path.join(dir, "run", "registry.pid"))).toBe(false);
    } finally {
      await squatter.close();
    }
  });

  it("`down` never signals a process it did not start (stale or recycled pid file)", async () => {
    const dir = tmpStackDir();
    const stranger = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      expect(stranger.pid).toBeTypeOf("number");
      fs.mkdirSync(path.join(dir, "run"), { recursive: true });
      for (const svc of ["kafka", "registry", "redis"]) fs.writeFileSync(path.join(dir, "run", `${svc}.pid`), `${stranger.pid}\n`);
      const r = await runStack(["down"], { VIGIL_STACK_DIR: dir });
      expect(r.code, r.stderr).toBe(0);
      for (const svc of ["kafka", "registry", "redis"]) expect(r.stdout).toContain(`${svc}: not started by this stack; nothing to stop`);
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
      expect(() => process.kill(stranger.pid ?? -1, 0)).not.toThrow();
      // the stale pid files are gone, and the shared services still answer
      expect(fs.readdirSync(path.join(dir, "run"))).toEqual([]);
      const status = await runStack(["status", "--json"]);
      expect((JSON.parse(status.stdout) as StatusRow[]).every((x) => x.state === "up")).toBe(true);
    } finally {
      stranger.kill("SIGKILL");
    }
  });

  it("rejects an unknown command or service with a usage message", async () => {
    const bad = await runStack(["explode"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage/);
    const badSvc = await runStack(["up", "zookeeper"]);
    expect(badSvc.code).toBe(1);
    expect(badSvc.stderr).toMatch(/unknown service "zookeeper"/);
  });

  // The ACL test's own broker (test/support/acl-broker.ts) needs the Kafka jars even when the
  // running stack came from another checkout, whose .stack/ holds them: it fetches them itself.
  it("fetches the Kafka jars into a stack folder that has never held them (the ACL broker's path)", { timeout: 600_000 }, () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-stack-libs-"));
    try {
      const r = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { ensureLibs } from ${JSON.stringify(path.join(repoRoot, "scripts/stack/kafka.mjs"))}; console.log(ensureLibs());`,
        ],
        { cwd: os.tmpdir(), env: { ...process.env, VIGIL_STACK_DIR: fresh }, encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      const libs = r.stdout.trim().split("\n").at(-1) ?? "";
      expect(libs.startsWith(fresh)).toBe(true);
      expect(fs.existsSync(path.join(libs, ".complete"))).toBe(true);
      expect(fs.readdirSync(libs).some((f) => /^kafka-server-\d.*\.jar$/.test(f))).toBe(true);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
