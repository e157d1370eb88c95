// A throwaway Apache Kafka broker with SASL/PLAIN and the standard authoriser, for the test
// of the Kafka ACLs in docs/security.md. Single-node KRaft from the jars the local stack
// script caches (scripts/stack/kafka.mjs ensureLibs: <VIGIL_STACK_DIR or .stack>/kafka/libs-<version>),
// fetched with Maven when this checkout has not cached them yet (as when the running stack
// was started by another checkout), on free ports, in a temporary folder; a child process of
// the test, killed and deleted by stop(). It never touches the stack's own broker.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import type { AclEntry } from "kafkajs";
// @ts-expect-error: plain ESM stack script without types
import { ensureLibs } from "../../scripts/stack/kafka.mjs";
import { freePort } from "./live.js";
import { repoRoot } from "./stack-env.js";

export interface AclBroker {
  /** The SASL_PLAINTEXT listener, host:port. */
  readonly brokers: string[];
  /** A kafkajs client authenticated as `user` (SASL/PLAIN), quiet and with few retries. */
  client(user: string, password?: string): kafkajs.Kafka;
  /** The last lines of the broker's log (for failure messages). */
  logTail(lines?: number): string;
  /** Kills the broker and deletes its folder. */
  stop(): Promise<void>;
}

const jaasValue = (s: string) => s.replaceAll("\\", "\\\\").replaceAll('"', '\\"');

/**
 * Starts the broker with these users (name → password). `admin` is its super user and the
 * principal the broker itself authenticates as, between its listeners; it must be among them.
 */
export async function startAclBroker(users: Readonly<Record<string, string>>, timeoutMs = 60_000): Promise<AclBroker> {
  const adminPassword = users.admin;
  if (adminPassword === undefined) throw new Error("startAclBroker: users must include admin (the super user)");
  const libs = ensureLibs() as string;
  const java = process.env.VIGIL_STACK_JAVA || "java";
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "vigil-acl-broker-"));
  const props = join(dir, "server.properties");
  const jaas = (withUsers: Record<string, string>) =>
    `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${jaasValue(adminPassword)}" ` +
    Object.entries(withUsers)
      .map(([u, p]) => `user_${u}="${jaasValue(p)}"`)
      .join(" ") +
    ";";
  writeFileSync(
    props,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
      `listeners=CLIENT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=CLIENT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
      "inter.broker.listener.name=CLIENT",
      "controller.listener.names=CONTROLLER",
      "sasl.enabled.mechanisms=PLAIN",
      "sasl.mechanism.inter.broker.protocol=PLAIN",
      "sasl.mechanism.controller.protocol=PLAIN",
      `listener.name.client.plain.sasl.jaas.config=${jaas(users)}`,
      // Only the broker itself talks to the controller listener.
      `listener.name.controller.plain.sasl.jaas.config=${jaas({ admin: adminPassword })}`,
      "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users=User:admin",
      "allow.everyone.if.no.acl.found=false",
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=1",
      "default.replication.factor=1",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "transaction.state.log.num.partitions=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "auto.create.topics.enable=false",
      "group.initial.rebalance.delay.ms=0",
      "num.network.threads=2",
      "num.io.threads=2",
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "kafka.log");
  const stdoutFile = join(dir, "kafka.stdout.log");
  const cp = `${libs}/*`;
  const log4j = [`-Dlog4j2.configurationFile=${join(repoRoot, "stack/kafka/log4j2.properties")}`, `-Dkafka.logs.dir=${dir}`];
  const jvm = ["-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", ...log4j];
  const tail = (lines = 40) =>
    [logFile, stdoutFile]
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${readFileSync(f, "utf8").split("\n").slice(-lines).join("\n")}`)
      .join("\n");

  let child: ChildProcess | undefined;
  const killNow = () => child?.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.once("exit", killNow);
  const stop = async () => {
    process.off("exit", killNow);
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const fmt = spawnSync(java, [...jvm, "-cp", cp, "kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", props, "--standalone"], {
      encoding: "utf8",
    });
    if (fmt.status !== 0) throw new Error(`formatting the ACL broker's KRaft storage failed (exit ${fmt.status}):\n${fmt.stdout}${fmt.stderr}`);
    const out = openSync(stdoutFile, "a");
    child = spawn(java, [...jvm, "-Dvigil.test.service=acl-broker", "-cp", cp, "kafka.Kafka", props], { cwd: dir, stdio: ["ignore", out, out] });
    closeSync(out);
    const started = child;
    const broker: AclBroker = {
      brokers: [`127.0.0.1:${port}`],
      client: (user, password = users[user] ?? "") =>
        new kafkajs.Kafka({
          brokers: [`127.0.0.1:${port}`],
          clientId: `acl-test-${user}`,
          sasl: { mechanism: "plain", username: user, password },
          logLevel: kafkajs.logLevel.NOTHING,
          connectionTimeout: 3000,
          requestTimeout: 10_000,
          retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
        }),
      logTail: tail,
      stop,
    };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null)
        throw new Error(`the ACL broker exited (${started.exitCode ?? started.signalCode}) while starting:\n${tail()}`);
      const admin = broker.client("admin").admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        await admin.listTopics();
        if (cluster.brokers.length > 0) return broker;
      } catch {
        // not up yet
      } finally {
        await admin.disconnect().catch(() => {});
      }
      if (Date.now() > deadline) throw new Error(`the ACL broker did not answer admin within ${timeoutMs} ms:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A KRaft cluster id: 16 random bytes, base64url without padding, as `kafka-storage random-uuid` prints (never with a leading "-", which the tool would read as an option). */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

const OPERATIONS: Record<string, kafkajs.AclOperationTypes> = {
  All: kafkajs.AclOperationTypes.ALL,
  Read: kafkajs.AclOperationTypes.READ,
  Write: kafkajs.AclOperationTypes.WRITE,
  Create: kafkajs.AclOperationTypes.CREATE,
  Delete: kafkajs.AclOperationTypes.DELETE,
  Alter: kafkajs.AclOperationTypes.ALTER,
  Describe: kafkajs.AclOperationTypes.DESCRIBE,
  ClusterAction: kafkajs.AclOperationTypes.CLUSTER_ACTION,
  DescribeConfigs: kafkajs.AclOperationTypes.DESCRIBE_CONFIGS,
  AlterConfigs: kafkajs.AclOperationTypes.ALTER_CONFIGS,
  IdempotentWrite: kafkajs.AclOperationTypes.IDEMPOTENT_WRITE,
};

/**
 * The ACL entries of `kafka-acls --add` command lines, as the tool adds them: every
 * principal × operation × resource of a line (`--topic`, `--group`, `--cluster`), with the
 * line's `--resource-pattern-type` (literal by default), allowed from any host. Lines not
 * starting with `kafka-acls`, and `--bootstrap-server` / `--command-config` with their
 * values, are ignored. Anything else is an error naming the line.
 */
export function aclsFromCommandLines(text: string): AclEntry[] {
  const entries: AclEntry[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line.startsWith("kafka-acls ")) continue;
    const words = line.split(/\s+/).map((w) => w.replace(/^'(.*)'$|^"(.*)"$/, "$1$2"));
    const principals: string[] = [];
    const operations: kafkajs.AclOperationTypes[] = [];
    const resources: { type: kafkajs.AclResourceTypes; name: string }[] = [];
    let pattern = kafkajs.ResourcePatternTypes.LITERAL;
    let add = false;
    for (let i = 1; i < words.length; i++) {
      const flag = words[i] as string;
      const value = () => {
        const v = words[++i];
        if (v === undefined || v.startsWith("--")) throw new Error(`${flag} without a value in: ${line}`);
        return v;
      };
      if (flag === "--add") add = true;
      else if (flag === "--allow-principal") principals.push(value());
      else if (flag === "--operation") {
        const op = value();
        const type = OPERATIONS[op];
        if (type === undefined) throw new Error(`unknown operation ${op} in: ${line}`);
        operations.push(type);
      } else if (flag === "--topic") resources.push({ type: kafkajs.AclResourceTypes.TOPIC, name: value() });
      else if (flag === "--group") resources.push({ type: kafkajs.AclResourceTypes.GROUP, name: value() });
      else if (flag === "--cluster") resources.push({ type: kafkajs.AclResourceTypes.CLUSTER, name: "kafka-cluster" });
      else if (flag === "--resource-pattern-type") {
        const p = value();
        if (p !== "literal" && p !== "prefixed") throw new Error(`unknown pattern type ${p} in: ${line}`);
        pattern = p === "prefixed" ? kafkajs.ResourcePatternTypes.PREFIXED : kafkajs.ResourcePatternTypes.LITERAL;
      } else if (flag === "--bootstrap-server" || flag === "--command-config") value();
      else throw new Error(`unsupported word ${flag} in: ${line}`);
    }
    if (!add || principals.length === 0 || operations.length === 0 || resources.length === 0)
      throw new Error(`expected --add, --allow-principal, --operation and a resource in: ${line}`);
    for (const principal of principals)
      for (const operation of operations)
        for (const r of resources)
          entries.push({
            principal,
            host: "*",
            operation,
            permissionType: kafkajs.AclPermissionTypes.ALLOW,
            resourceType: r.type,
            resourceName: r.name,
            resourcePatternType: pattern,
          });
  }
  return entries;
}
