// Processes the stack starts and owns: finding a JVM, pid files, ports, detached children,
// stopping them, and Maven for the jars.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import process from "node:process";
import { HOST, dirs, elapsed, env, fail, pidFile, ports, repoRoot, say, sleep, stackDir, which } from "./config.mjs";

function javaMajor(javaBin) {
  const r = spawnSync(javaBin, ["-version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

/** A JVM of at least `minMajor`: explicit env, JAVA_HOME, java on PATH, then /usr/lib/jvm/* and /opt. */
export function findJava(minMajor, explicitEnv) {
  const candidates = [];
  if (env[explicitEnv]) candidates.push(env[explicitEnv]);
  if (env.JAVA_HOME) candidates.push(path.join(env.JAVA_HOME, "bin", "java"));
  const onPath = which("java");
  if (onPath) candidates.push(onPath);
  for (const root of ["/usr/lib/jvm", "/opt/java", "/opt"]) {
    try {
      for (const d of fs.readdirSync(root)) {
        const bin = path.join(root, d, "bin", "java");
        if (fs.existsSync(bin)) candidates.push(bin);
      }
    } catch {
      /* no such root */
    }
  }
  const seen = [];
  for (const bin of [...new Set(candidates)]) {
    const major = javaMajor(bin);
    if (major !== null) seen.push({ bin, major });
    if (bin === env[explicitEnv] && major !== null && major < minMajor) fail(`${explicitEnv}=${bin} is Java ${major}; Java ${minMajor}+ is needed`);
  }
  const ok = seen.filter((j) => j.major >= minMajor);
  if (ok.length === 0) return { bin: null, seen };
  // keep the caller's preference order (env, JAVA_HOME, PATH) among those that are new enough
  return { bin: ok[0].bin, major: ok[0].major, seen };
}

function readPid(svc) {
  try {
    const pid = Number(fs.readFileSync(pidFile(svc), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The command line of a live process, or null when it is gone. */
export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return null;
  }
}

// Is `pid` alive and really the process this stack started for `svc`?
function ownsPid(svc, pid) {
  if (!pid) return false;
  const cmd = cmdline(pid);
  if (cmd === null) return false;
  if (svc === "redis") return /redis-server/.test(cmd) && cmd.includes(`:${ports.redis}`);
  return cmd.includes(`-Dvigil.stack.service=${svc}`) && cmd.includes(`-Dvigil.stack.dir=${stackDir}`);
}

/** The pid of the process this stack started for `svc`, if it still runs (a stale pid file is removed). */
export function ourPid(svc) {
  const pid = readPid(svc);
  if (pid && ownsPid(svc, pid)) return pid;
  if (pid) fs.rmSync(pidFile(svc), { force: true });
  return null;
}

/** Whether nobody listens on host:port (we can bind it ourselves). */
export function portFree(port, host = HOST) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function spawnDetached(svc, bin, args, cwd, outFile) {
  fs.mkdirSync(dirs.logs, { recursive: true });
  fs.mkdirSync(dirs.run, { recursive: true });
  const out = fs.openSync(outFile, "a");
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting ${svc}: ${bin} ${args.join(" ")}\n`);
  const child = spawn(bin, args, { cwd, detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(pidFile(svc), `${child.pid}\n`);
  return child.pid;
}

export async function stopPid(svc, pid) {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + Number(env.VIGIL_STACK_STOP_TIMEOUT_MS || 30_000);
  while (Date.now() < deadline) {
    if (cmdline(pid) === null) return;
    await sleep(200);
  }
  say(`${svc}: still alive after SIGTERM, sending SIGKILL to ${pid}`);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
  while (cmdline(pid) !== null) await sleep(100);
}

export function runMaven(pomRel, args, what) {
  const mvn = which("mvn");
  if (!mvn) fail(`Maven (mvn) is needed to fetch ${what} from Maven Central and is not on PATH. Install it: apt-get install -y maven`);
  const start = Date.now();
  say(`resolving ${what} with Maven (cached in ~/.m2 after the first time) ...`);
  const r = spawnSync(mvn, ["-q", "-B", "-f", path.join(repoRoot, pomRel), ...args], { encoding: "utf8" });
  if (r.status !== 0) fail(`Maven could not resolve ${what} (exit ${r.status}):\n${(r.stdout + r.stderr).split("\n").slice(-30).join("\n")}`);
  say(`resolved ${what} in ${elapsed(start)}`);
}
