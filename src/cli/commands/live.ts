import { loadConfig } from "../../config/config.js";
import { jsonLogger } from "../../adapters/logger.js";
import { createKafka } from "../../adapters/kafka/client.js";
import { ensureTopics, topicSpecs } from "../../adapters/kafka/topics.js";
import { registerSchemas, schemaRegistry } from "../../adapters/schema-registry.js";
import { startVigil } from "../../main.js";

type Env = Readonly<Record<string, string | undefined>>;

/** `vigil start`: runs the processor until SIGTERM or SIGINT, then stops gracefully; exits 1 if it can no longer decide. */
export async function startCommand(env: Env): Promise<number> {
  const running = await startVigil(env);
  const code = await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (exitCode: number) => {
      if (stopping) return;
      stopping = true;
      running.stop().then(
        () => resolve(exitCode),
        (e: unknown) => {
          process.stderr.write(`vigil: error while stopping: ${String(e)}\n`);
          resolve(exitCode);
        },
      );
    };
    process.once("SIGTERM", () => stop(0));
    process.once("SIGINT", () => stop(0));
    // A processor that cannot decide must not look alive: stop, exit 1, and let the supervisor restart it.
    void running.failed.then((e) => {
      process.stderr.write(`vigil: the processor stopped deciding (${e.message}); exiting\n`);
      stop(1);
    });
  });
  // Stopped: the batch in flight is committed and the group left. A client that still holds a
  // socket or a timer (kafkajs reconnecting after a broker restart, seen in the soak) must not
  // keep the process up: exit after a grace period if the event loop has not drained by then.
  setTimeout(() => {
    process.stderr.write("vigil: stopped, but a client still held the event loop after 5 s; exiting\n");
    process.exit(code);
  }, 5000).unref();
  return code;
}

export async function topicsCreateCommand(env: Env): Promise<number> {
  const config = loadConfig(env);
  const admin = createKafka(config, jsonLogger(config.logLevel)).admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, config);
    for (const s of topicSpecs(config))
      process.stdout.write(
        `${s.topic}\t${created.includes(s.topic) ? "created" : "exists"}\tpartitions=${s.numPartitions}\t${s.configEntries.map((c) => `${c.name}=${c.value}`).join(" ")}\n`,
      );
  } finally {
    await admin.disconnect();
  }
  return 0;
}

export async function schemasRegisterCommand(env: Env): Promise<number> {
  const config = loadConfig(env);
  if (!config.registryUrl) {
    process.stderr.write("vigil: VIGIL_REGISTRY_URL is not set (e.g. http://127.0.0.1:8081/apis/ccompat/v7)\n");
    return 2;
  }
  const ids = await registerSchemas(schemaRegistry(config.registryUrl), config);
  process.stdout.write(
    `${config.topics.events}-value\tid=${ids.events}\n${config.topics.commands}-value\tid=${ids.commands}\n${config.topics.sessionStatus}-value\tid=${ids.status}\n`,
  );
  return 0;
}
