// The live processor's composition root: reads the environment once, wires Kafka, Redis,
// the schema registry, metrics and HTTP, and returns a handle to stop it gracefully.
import { Registry } from "prom-client";
import { loadConfig } from "./config/config.js";
import { registerSchemas, schemaRegistry } from "./adapters/schema-registry.js";
import { healthDoor, startHttp } from "./adapters/http-server.js";
import { httpApp } from "./adapters/http-app.js";
import { createKafka } from "./adapters/kafka/client.js";
import { avroOutput, jsonOutput } from "./adapters/kafka/output.js";
import { createProcessor } from "./adapters/kafka/processor.js";
import { openAiJudge } from "./adapters/judge/openai-judge.js";
import { ensureTopics } from "./adapters/kafka/topics.js";
import type { Logger } from "./adapters/logger.js";
import { jsonLogger } from "./adapters/logger.js";
import { watchPolicy } from "./adapters/policy-watcher.js";
import { promMetrics } from "./adapters/prom-metrics.js";
import { redisState } from "./adapters/redis/redis-state.js";
import { redisClient } from "./adapters/redis/client.js";
import { readJwksFile, recordSigner, setSigner, withSetKey } from "./adapters/signing.js";
import type { Jwks } from "./adapters/signing.js";
import { recordVerifier } from "./codec/record-jws.js";
import { SET_TYPE } from "./protocol/ssf.js";
import { randomUUID } from "node:crypto";
import { loadReviewers, reviewDoor } from "./adapters/review-http.js";
import { runVerdictBridge, verdictPublisher } from "./adapters/kafka/verdicts.js";
import { reviewService } from "./app/review-service.js";
import { ssfTransmitter } from "./app/ssf.js";
import type { SsfTransmitter } from "./app/ssf.js";
import { redisSsfStore } from "./adapters/redis/ssf-store.js";
import { loadReceivers, ssfDoor } from "./adapters/ssf-http.js";
import { httpPush, pushRounds } from "./adapters/ssf-push.js";
import { startAcksFeed } from "./adapters/kafka/acks.js";
import { runSsfFeed } from "./adapters/kafka/ssf-feed.js";
import { promSsfMetrics } from "./adapters/prom-metrics.js";
import { doorsDoor } from "./adapters/doors-http.js";
import { openDoors } from "./compose/doors.js";
import { defaultPartitioner } from "./sdk/partitioner.js";
import { loadBearerTokens } from "./adapters/http-auth.js";

/** How often the SSF transmitter looks for SETs to push. */
const PUSH_TICK_MS = 250;

export interface Running {
  stop(): Promise<void>;
  readonly httpPort: number;
  /** The public keys /.well-known/jwks.json serves: those that verify this processor's commands and statuses, then its SSF key when it has one of its own. */
  readonly jwks: Jwks;
  /** Settles with the error when the processor can no longer decide (its consumer crashed and will not restart); stop and exit non-zero then. */
  readonly failed: Promise<Error>;
}

export async function startVigil(env: Readonly<Record<string, string | undefined>>, log: Logger = jsonLogger(loadConfig(env).logLevel)): Promise<Running> {
  const config = loadConfig(env);
  // Everything started is registered here, so a failed start or a stop closes all of it.
  const teardown: { name: string; close: () => Promise<void> | void }[] = [];
  const closeAll = async () => {
    for (const t of teardown.splice(0).reverse()) {
      try {
        await t.close();
      } catch (e) {
        log.warn(`error while closing ${t.name}`, { error: String(e) });
      }
    }
  };
  try {
    return await start();
  } catch (e) {
    await closeAll();
    throw e;
  }

  async function start(): Promise<Running> {
    const registry = new Registry();
    // Scrape-time gauges read the processor and Redis, which exist a few lines below.
    const gaugeReaders = { reviews: async () => 0, activeSessions: () => 0 };
    const metrics = promMetrics(registry, { reviews: () => gaugeReaders.reviews(), activeSessions: () => gaugeReaders.activeSessions() });
    const signer = await recordSigner(config.signing, (path) =>
      log.warn("no signing key configured: generated a new Ed25519 key; enforcers must trust its public key (GET /.well-known/jwks.json)", { path }),
    );
    log.info("signing commands and statuses", { kid: signer.kid, alg: signer.alg });
    const setKey = config.ssf
      ? await setSigner(config.ssf.signing, signer, (path) =>
          log.warn("no SSF signing key configured: generated a new one for Security Event Tokens; receivers find it in GET /.well-known/jwks.json", {
            path,
            alg: config.ssf?.signing.alg,
          }),
        )
      : undefined;
    if (setKey) log.info("signing Security Event Tokens", { kid: setKey.kid, alg: setKey.alg, key: setKey.source });
    // Published: the record keys, then the SET key (receivers select it by kid; enforcers never see a record signed with it).
    const published = withSetKey(signer.jwks, setKey);
    const reviewers = loadReviewers(config.reviewTokens);
    if (reviewers.size > 0 || config.reviewMtlsSubjects.length > 0)
      log.info("review API enabled", { reviewers: [...reviewers.keys()], certificateSubjects: config.reviewMtlsSubjects });
    const receivers = config.ssf ? loadReceivers(config.ssf.receivers) : new Map<string, Buffer>();
    if (config.ssf) log.info("SSF transmitter enabled", { issuer: config.ssf.issuer, receivers: [...receivers.keys()] });
    const producerKeys = config.producerKeysFile ? await readJwksFile(config.producerKeysFile, "VIGIL_PRODUCER_KEYS_FILE") : undefined;
    if (producerKeys) log.info("producer keys loaded", { kids: producerKeys.keys.map((k) => k.kid) });
    const policy = watchPolicy(config.policyFile, config.policyPollMs, {
      loaded: (p) => {
        metrics.policyLoaded(p.version, p.source);
        log.info("policy loaded", { version: p.version, source: p.source });
      },
      rejected: (e) => {
        metrics.policyRejected();
        log.error("policy reload rejected; the previous policy stays in force", { error: e.message });
      },
    });
    teardown.push({ name: "policy watcher", close: () => policy.stop() });
    const redis = redisClient(config.redis);
    redis.on("error", (e: Error) => log.warn("redis error", { error: e.message }));
    teardown.push({ name: "redis", close: () => redis.disconnect() });
    await redis.connect();
    const state = redisState(redis, {
      prefix: config.redis.prefix,
      sessionTtlSeconds: config.redis.sessionTtlSeconds,
      onRoundTrip: (op, s) => metrics.redisRoundTrip(op, s),
      onRolledForward: (writes) => log.warn("completed a batch's interrupted persist from its journal (Redis Cluster)", { writes }),
    });

    const kafka = createKafka(config, log);
    let created: string[] = [];
    if (config.topics.create) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        created = await ensureTopics(admin, config);
      } finally {
        await admin.disconnect();
      }
    }
    if (created.length > 0) log.info("topics created", { topics: created });
    const schemaClient = config.registryUrl ? schemaRegistry(config.registryUrl) : undefined;
    let encoder = jsonOutput;
    if (schemaClient && config.outputFormat === "avro") encoder = avroOutput(schemaClient, await registerSchemas(schemaClient, config));

    const heartbeatInterval = Math.min(3000, Math.floor(config.kafka.sessionTimeoutMs / 3));
    const consumer = kafka.consumer({
      groupId: config.kafka.groupId,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      // kafkajs notices a rebalance only between fetches: a short fetch wait keeps rebalances (and latency) near 1 s.
      maxWaitTimeInMs: 500,
      heartbeatInterval,
      // The broker still returns a larger message whole (KIP-74); this bounds batch size.
      maxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition,
      retry: { retries: 1000, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    // Idempotent producer: kafkajs requires unbounded retries for it; a broker outage stalls the batch (and /readyz) until it is back.
    const producer = kafka.producer({
      // kafkajs's DefaultPartitioner, the same partitions without its Long arithmetic's garbage.
      createPartitioner: defaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    let fatal: (e: Error) => void = () => {};
    const failed = new Promise<Error>((resolve) => (fatal = resolve));
    const judge = config.judge ? openAiJudge(config.judge) : undefined;
    if (judge) log.info("judge enabled for uncertain calls", { url: config.judge?.url, model: judge.name });
    // Verdicts are signed with the processor's own keys (the review API and CLI share its key configuration); the SSF feed checks commands with them too.
    const verifyOwn = recordVerifier({ jwks: signer.jwks });
    const processor = createProcessor({
      config,
      verifyVerdict: verifyOwn,
      consumer,
      producer,
      state,
      policy: policy.current,
      ...(schemaClient ? { registry: schemaClient } : {}),
      encoder,
      signer,
      ...(producerKeys ? { verifyProducer: recordVerifier({ jwks: producerKeys }) } : {}),
      metrics,
      log,
      ...(judge ? { judge } : {}),
      onFatal: (e) => {
        log.error("the processor stopped deciding: its consumer crashed and will not restart", { error: e.message });
        fatal(e);
      },
    });
    gaugeReaders.reviews = () => state.pendingCount();
    gaugeReaders.activeSessions = () => processor.activeSessions();
    // The processor's side consumers (acknowledgements, verdicts, SSF feed): their own groups,
    // the processor's session timeout, joined in the background (a restart must not wait on them).
    const sideConsumer = (suffix: string) =>
      kafka.consumer({ groupId: `${config.kafka.groupId}-${suffix}`, maxWaitTimeInMs: 500, sessionTimeout: config.kafka.sessionTimeoutMs, heartbeatInterval });
    const acks = sideConsumer("acks");
    teardown.push({ name: "acks consumer", close: () => acks.disconnect() });
    const acksFeed = await startAcksFeed({ consumer: acks, topic: config.topics.acks, observed: (s) => metrics.timeToEnforce(s), log });
    acksFeed.running.catch((e: unknown) => log.warn("the acknowledgements consumer stopped; time-to-enforce is not measured", { error: String(e) }));
    // Verdicts: the review API publishes them to vigil.reviews; the bridge carries the verified ones into vigil.events.
    const reviews = reviewService({
      cases: state,
      publish: verdictPublisher(producer, config.topics.reviews, signer),
      now: () => Date.now(),
      newId: () => randomUUID(),
    });
    // The SSF transmitter: its streams and outboxes in the same Redis, SETs signed with its key (VIGIL_SSF_SIGNING_ALG).
    let ssf: SsfTransmitter | undefined;
    let refusedCommand: (reason: string) => void = () => {};
    if (config.ssf && setKey) {
      const sets = setKey;
      const ssfConfig = config.ssf;
      // The outbox gauge reads the transmitter made just below.
      const ssfMetrics = promSsfMetrics(registry, () => ssf?.queued() ?? Promise.resolve(0));
      refusedCommand = ssfMetrics.commandRefused;
      ssf = ssfTransmitter({
        store: redisSsfStore(redis, config.redis.prefix),
        sign: (claims) => sets.sign({ ...claims }, SET_TYPE),
        push: httpPush(ssfConfig.pushTimeoutMs),
        issuer: ssfConfig.issuer,
        principalIssuer: ssfConfig.principalIssuer,
        limits: ssfConfig.limits,
        metrics: ssfMetrics,
        now: () => Date.now(),
        newId: () => randomUUID(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        random: Math.random,
        warn: (msg, fields) => log.warn(msg, fields),
      });
    }
    // One HTTP app on the port, a door per concern mounted on it (adapters/http-app.ts).
    const http = httpApp({ unexpected: (e, method, path) => log.warn("HTTP request failed", { method, path, error: e.message }) });
    http.route(
      "/",
      healthDoor({
        registry,
        jwks: published,
        ready: async () => {
          const h = processor.health();
          const redisOk = await state.ping();
          return {
            ready: h.joined && h.fetching && redisOk && h.lastBatchError === undefined,
            checks: {
              consumerGroup: h.joined ? "joined" : "not joined",
              broker: h.fetching ? "fetching" : "no fetch answered lately",
              redis: redisOk ? "ok" : "unreachable",
              batches: h.batches,
              ...(h.lastBatchError ? { lastBatchError: h.lastBatchError } : {}),
            },
          };
        },
      }),
    );
    http.route("/", reviewDoor(reviews, reviewers, new Set(config.reviewMtlsSubjects)));
    if (ssf) http.route("/", ssfDoor(ssf, receivers));
    // The doors for enforcement points and other languages (docs/doors.md): AuthZEN, the event intake, OTLP traces.
    // Only with enforcement points configured: their producer and enforcer cost a connection and a consumer (and ACLs, docs/security.md).
    const pepTokens = loadBearerTokens({ ...config.peps.tokens, inlineVariable: "VIGIL_PEP_TOKENS", fileVariable: "VIGIL_PEP_TOKENS_FILE", split: "first" });
    if (pepTokens.size > 0 || config.peps.mtlsSubjects.length > 0) {
      const doors = await openDoors(config, pepTokens, kafka, signer.jwks, schemaClient, () => policy.current(), log);
      teardown.push({ name: "doors", close: doors.close });
      http.route("/", doors.door);
    } else http.route("/", doorsDoor({ tokens: pepTokens, perSecond: config.peps.perSecond }));
    const server = await startHttp(config.http.host, config.http.port, http, config.http.tls);
    teardown.push({ name: "http server", close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const address = server.address();
    const httpPort = typeof address === "object" && address ? address.port : config.http.port;
    teardown.push({ name: "processor", close: () => processor.stop() });
    await processor.start();
    // After the processor: the bridge writes with its producer.
    const bridge = sideConsumer("reviews");
    teardown.push({ name: "verdict bridge", close: () => bridge.disconnect() });
    await bridge.connect();
    // Joined in the background, like the acknowledgements consumer: a restart must not wait on it.
    const bridging = runVerdictBridge({
      consumer: bridge,
      producer,
      reviewsTopic: config.topics.reviews,
      eventsTopic: config.topics.events,
      verify: verifyOwn,
      log,
      counted: (outcome) => metrics.verdict(outcome),
    });
    bridging.catch((e: unknown) => log.error("the verdict bridge stopped; verdicts on the reviews topic are not applied", { error: String(e) }));
    if (ssf) {
      const transmitter = ssf;
      // Commands → outboxes, in its own group (joined in the background too).
      const feed = sideConsumer("ssf");
      teardown.push({ name: "SSF feed", close: () => feed.disconnect() });
      await feed.connect();
      runSsfFeed({
        consumer: feed,
        topic: config.topics.commands,
        verify: verifyOwn,
        registry: schemaClient,
        onCommands: (commands) => transmitter.onCommands(commands),
        refused: refusedCommand,
        log,
      }).catch((e: unknown) => log.error("the SSF feed stopped; commands are not turned into SETs", { error: String(e) }));
      // Push delivery: a round every PUSH_TICK_MS, one at a time; a lock per stream lets several processors share the work.
      const rounds = pushRounds(transmitter, randomUUID(), PUSH_TICK_MS, log);
      teardown.push({ name: "SSF push", close: () => rounds.stop() });
    }

    log.info("vigil processor started", {
      brokers: config.kafka.brokers,
      groupId: config.kafka.groupId,
      topic: config.topics.events,
      http: `${config.http.host}:${httpPort}`,
      outputFormat: encoder.format,
    });
    return {
      httpPort,
      jwks: published,
      failed,
      async stop() {
        log.info("stopping: finishing the batch in flight, committing, leaving the group");
        await closeAll();
        log.info("stopped");
      },
    };
  }
}
