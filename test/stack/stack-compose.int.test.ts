// docker-compose.yml must be a valid Compose file. Validated with `docker compose config -q`
// (Compose v2 plugin) or, where only Debian's docker-compose v1 is installed, with
// `docker-compose config -q`. Neither needs a Docker engine.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/stack-env.js";

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.error === undefined && r.status === 0;
}

const composeV2 = works("docker", ["compose", "version"]);
const composeV1 = !composeV2 && works("docker-compose", ["version"]);
const dockerClient = works("docker", ["--version"]);
const compose: [string, string[]] | null = composeV2 ? ["docker", ["compose"]] : composeV1 ? ["docker-compose", []] : null;
// Skip only on a developer's machine with no Docker tooling at all. Under CI=true (.ci/run
// installs docker-compose), and wherever a docker client is present, a missing compose
// implementation is a setup error and fails below.
const noDockerTooling = process.env.CI !== "true" && !dockerClient && compose === null;

describe("docker-compose.yml", () => {
  it.skipIf(noDockerTooling)(
    noDockerTooling ? "is valid (SKIPPED: neither the docker client nor docker-compose is installed)" : "is accepted by `compose config -q`",
    () => {
      expect(compose, "no compose implementation (docker compose or docker-compose): apt-get install -y docker-compose").not.toBeNull();
      if (compose === null) return;
      const [cmd, pre] = compose;
      const file = path.join(repoRoot, "docker-compose.yml");
      const q = spawnSync(cmd, [...pre, "-f", file, "config", "-q"], { cwd: repoRoot, encoding: "utf8" });
      expect(q.status, `${cmd} ${pre.join(" ")} config -q said:\n${q.stdout}${q.stderr}`).toBe(0);
      const full = spawnSync(cmd, [...pre, "-f", file, "config", "--services"], { cwd: repoRoot, encoding: "utf8" });
      expect(full.status, full.stderr).toBe(0);
      expect(full.stdout.split("\n").filter(Boolean).sort()).toEqual(["grafana", "kafka", "prometheus", "redis", "schema-registry", "vigil"].sort());
    },
  );

  // One stack, one set of versions: the Maven poms of stack/ name the Kafka and Apicurio
  // versions the local stack runs; the compose file's images must be the same releases.
  it("runs the Kafka and Apicurio Registry releases the local stack's poms name", () => {
    const pom = (file: string, prop: string) => new RegExp(`<${prop}>([^<]+)</${prop}>`).exec(readFileSync(path.join(repoRoot, file), "utf8"))?.[1]?.trim();
    const compose = readFileSync(path.join(repoRoot, "docker-compose.yml"), "utf8");
    const image = (name: string) => new RegExp(`image: ${name}:(\\S+)`).exec(compose)?.[1];
    expect(pom("stack/kafka/pom.xml", "kafka.version")).toBeDefined();
    expect(image("apache/kafka")).toBe(pom("stack/kafka/pom.xml", "kafka.version"));
    expect(image("apicurio/apicurio-registry")).toBe(pom("stack/registry/pom.xml", "apicurio.version"));
  });
});
