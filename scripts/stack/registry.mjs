// Apicurio Registry (its Confluent-compatible API serves @kafkajs/confluent-schema-registry),
// unpacked from the distribution Maven resolves (stack/registry/pom.xml).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { HOST, address, dirs, fail, heaps, logFile, ports, registryPath, stackDir, versions, which } from "./config.mjs";
import { findJava, ourPid, portFree, runMaven, spawnDetached } from "./processes.mjs";

/** Whether the registry answers GET <path>/subjects with a JSON list. */
async function answers(timeoutMs = 3000) {
  try {
    const res = await fetch(`http://${HOST}:${ports.registry}${registryPath}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status === 200 && Array.isArray(await res.json());
  } catch {
    return false;
  }
}

function ensureApp() {
  const marker = path.join(dirs.registryApp, ".complete");
  if (fs.existsSync(marker)) return;
  const dist = path.join(dirs.registry, "dist");
  fs.rmSync(dirs.registryApp, { recursive: true, force: true });
  fs.rmSync(dist, { recursive: true, force: true });
  runMaven(
    "stack/registry/pom.xml",
    ["dependency:copy-dependencies", `-Dapicurio.version=${versions.registry}`, `-DoutputDirectory=${dist}`],
    `Apicurio Registry ${versions.registry}`,
  );
  const tarball = path.join(dist, `apicurio-registry-app-${versions.registry}-all.tar.gz`);
  if (!fs.existsSync(tarball)) fail(`Maven did not produce ${tarball}`);
  fs.mkdirSync(dirs.registryApp, { recursive: true });
  const r = spawnSync("tar", ["-xzf", tarball, "-C", dirs.registryApp], { encoding: "utf8" });
  if (r.status !== 0) fail(`could not unpack ${tarball}: ${r.stderr}`);
  if (!fs.existsSync(path.join(dirs.registryApp, "quarkus-run.jar"))) fail(`${tarball} has no quarkus-run.jar`);
  fs.rmSync(dist, { recursive: true, force: true }); // the tarball stays in ~/.m2
  fs.writeFileSync(marker, `apicurio-registry ${versions.registry}\n`);
}

export const registry = {
  name: "registry",
  logs: logFile.registry,
  log: logFile.registry,
  probe: () => answers(),

  async preflight(plan) {
    if (ourPid("registry")) return "running";
    if (!(await portFree(ports.registry))) {
      if (await answers()) return "external";
      fail(
        `port ${ports.registry} (schema registry, VIGIL_STACK_REGISTRY_PORT / VIGIL_REGISTRY_URL) is already taken by something that does not answer GET ${registryPath}/subjects and is not ours.\n` +
          `  Find it: ss -ltnp 'sport = :${ports.registry}'   Fix: stop it, or choose another port, e.g. VIGIL_STACK_REGISTRY_PORT=18081`,
      );
    }
    if (!(await portFree(ports.registryManagement))) {
      fail(
        `port ${ports.registryManagement} (registry's Quarkus management interface, VIGIL_STACK_REGISTRY_MANAGEMENT_PORT) is already taken.\n` +
          `  Find it: ss -ltnp 'sport = :${ports.registryManagement}'   Fix: stop it, or set VIGIL_STACK_REGISTRY_MANAGEMENT_PORT`,
      );
    }
    const java = findJava(21, "VIGIL_STACK_REGISTRY_JAVA");
    if (!java.bin) {
      fail(
        `Apicurio Registry ${versions.registry} needs Java 21+ (its classes are class-file version 65); found only ` +
          `${java.seen.map((j) => `${j.bin} (Java ${j.major})`).join(", ") || "no java at all"}.\n` +
          `  Fix: install a JDK 21+ under /usr/lib/jvm (e.g. a Temurin package) or set VIGIL_STACK_REGISTRY_JAVA=/path/to/bin/java`,
      );
    }
    if (!fs.existsSync(path.join(dirs.registryApp, ".complete")) && !which("mvn"))
      fail(`Apicurio Registry is not cached in ${dirs.registryApp} and Maven (mvn) is missing. Fix: apt-get install -y maven`);
    plan.registryJava = java.bin;
    return "start";
  },

  provision: ensureApp,

  start(plan) {
    const tmp = path.join(dirs.registry, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    const quarkus = [
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.http.port=${ports.registry}`,
      `-Dquarkus.management.host=${HOST}`,
      `-Dquarkus.management.port=${ports.registryManagement}`,
      `-Dapicurio.storage.snapshot.location=${tmp}`,
      `-Dapicurio.import.work-dir=${tmp}`,
      "-Dquarkus.otel.sdk.disabled=true",
    ];
    const args = [
      "-Xms128m",
      `-Xmx${heaps.registry}`,
      "-Dvigil.stack.service=registry",
      `-Dvigil.stack.dir=${stackDir}`,
      `-Djava.io.tmpdir=${tmp}`,
      ...quarkus,
      "-jar",
      "quarkus-run.jar",
    ];
    return spawnDetached("registry", plan.registryJava, args, dirs.registryApp, logFile.registry);
  },

  data: [path.join(dirs.registry, "tmp")],
  address: address.registry,
};
