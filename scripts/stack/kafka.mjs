// Apache Kafka, single-node KRaft, from the jars Maven resolves (stack/kafka/pom.xml).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import kafkajs from "kafkajs";
import { HOST, address, dirs, fail, heaps, logFile, ports, repoRoot, say, stackDir, versions, which } from "./config.mjs";
import { findJava, ourPid, portFree, runMaven, spawnDetached } from "./processes.mjs";

/** Whether a Kafka broker answers on the port; with `ready`, also that it is registered and unfenced (Metadata lists it). */
async function answers(ready) {
  const kafka = new kafkajs.Kafka({
    clientId: "vigil-stack",
    brokers: [`${HOST}:${ports.kafka}`],
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    // connect() already exchanges ApiVersions: only a Kafka broker gets this far.
    await admin.connect();
    if (!ready) return true;
    const cluster = await admin.describeCluster();
    await admin.listTopics();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Fetches the Kafka jars into dirs.kafkaLibs unless they are there; returns that folder. Also used by the ACL test's own broker. */
export function ensureLibs() {
  const marker = path.join(dirs.kafkaLibs, ".complete");
  if (fs.existsSync(marker)) return dirs.kafkaLibs;
  fs.rmSync(dirs.kafkaLibs, { recursive: true, force: true });
  runMaven(
    "stack/kafka/pom.xml",
    ["dependency:copy-dependencies", `-Dkafka.version=${versions.kafka}`, "-DincludeScope=runtime", `-DoutputDirectory=${dirs.kafkaLibs}`],
    `Apache Kafka ${versions.kafka}`,
  );
  fs.writeFileSync(marker, `kafka ${versions.kafka}\n`);
  return dirs.kafkaLibs;
}

export const kafka = {
  name: "kafka",
  logs: `${logFile.kafka} and ${logFile.kafkaStdout}`,
  log: logFile.kafka,
  probe: () => answers(true),

  async preflight(plan) {
    if (ourPid("kafka")) return "running";
    if (!(await portFree(ports.kafka))) {
      if (await answers(false)) return "external";
      fail(
        `port ${ports.kafka} (Kafka, VIGIL_STACK_KAFKA_PORT / VIGIL_KAFKA_BROKERS) is already taken by something that is not a Kafka broker and not ours.\n` +
          `  Find it: ss -ltnp 'sport = :${ports.kafka}'   Fix: stop it, or choose another port, e.g. VIGIL_STACK_KAFKA_PORT=19092`,
      );
    }
    if (!(await portFree(ports.controller))) {
      fail(
        `port ${ports.controller} (Kafka KRaft controller, VIGIL_STACK_KAFKA_CONTROLLER_PORT) is already taken.\n` +
          `  Find it: ss -ltnp 'sport = :${ports.controller}'   Fix: stop it, or set VIGIL_STACK_KAFKA_CONTROLLER_PORT`,
      );
    }
    const java = findJava(17, "VIGIL_STACK_JAVA");
    if (!java.bin) {
      fail(
        `Kafka ${versions.kafka} needs Java 17+; none found (${java.seen.map((j) => `${j.bin}=${j.major}`).join(", ") || "no java at all"}).\n` +
          `  Fix: apt-get install -y openjdk-17-jre-headless, or set VIGIL_STACK_JAVA=/path/to/bin/java`,
      );
    }
    if (!fs.existsSync(path.join(dirs.kafkaLibs, ".complete")) && !which("mvn"))
      fail(`Kafka jars are not cached in ${dirs.kafkaLibs} and Maven (mvn) is missing. Fix: apt-get install -y maven`);
    plan.kafkaJava = java.bin;
    return "start";
  },

  provision: ensureLibs,

  start(plan) {
    const javaBin = plan.kafkaJava;
    fs.mkdirSync(dirs.kafka, { recursive: true });
    const props = fs
      .readFileSync(path.join(repoRoot, "stack/kafka/server.properties.template"), "utf8")
      .replaceAll("@KAFKA_PORT@", String(ports.kafka))
      .replaceAll("@CONTROLLER_PORT@", String(ports.controller))
      .replaceAll("@DATA_DIR@", dirs.kafkaData);
    const propsFile = path.join(dirs.kafka, "server.properties");
    fs.writeFileSync(propsFile, props);
    const cp = `${dirs.kafkaLibs}/*`;
    const log4j = [`-Dlog4j2.configurationFile=${path.join(repoRoot, "stack/kafka/log4j2.properties")}`, `-Dkafka.logs.dir=${dirs.logs}`];
    // The KRaft voter set recorded at format time names the controller endpoint: reformat when
    // the ports or the version changed (this is a throwaway dev broker).
    const fingerprint = `${versions.kafka} ${ports.kafka} ${ports.controller}`;
    const fpFile = path.join(dirs.kafka, "formatted-for");
    const formatted = fs.existsSync(path.join(dirs.kafkaData, "meta.properties"));
    if (!formatted || (fs.existsSync(fpFile) ? fs.readFileSync(fpFile, "utf8").trim() : "") !== fingerprint) {
      fs.rmSync(dirs.kafkaData, { recursive: true, force: true });
      fs.mkdirSync(dirs.logs, { recursive: true });
      const uuid = spawnSync(javaBin, ["-cp", cp, ...log4j, "kafka.tools.StorageTool", "random-uuid"], { encoding: "utf8" });
      const clusterId = uuid.stdout.trim().split("\n").pop();
      if (uuid.status !== 0 || !clusterId) fail(`kafka-storage random-uuid failed:\n${uuid.stdout}${uuid.stderr}`);
      const fmt = spawnSync(javaBin, ["-cp", cp, ...log4j, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propsFile, "--standalone"], {
        encoding: "utf8",
      });
      if (fmt.status !== 0) fail(`formatting the KRaft storage failed:\n${fmt.stdout}${fmt.stderr}`);
      fs.writeFileSync(fpFile, `${fingerprint}\n`);
      say(`formatted KRaft storage in ${dirs.kafkaData} (cluster id ${clusterId})`);
    }
    const jvm = [`-Xms${heaps.kafka}`, `-Xmx${heaps.kafka}`, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"];
    return spawnDetached(
      "kafka",
      javaBin,
      [...jvm, "-Dvigil.stack.service=kafka", `-Dvigil.stack.dir=${stackDir}`, ...log4j, "-cp", cp, "kafka.Kafka", propsFile],
      dirs.kafka,
      logFile.kafkaStdout,
    );
  },

  /** What `clean` deletes (the jar cache stays). */
  data: [dirs.kafkaData, path.join(dirs.kafka, "formatted-for")],
  address: address.kafka,
};
