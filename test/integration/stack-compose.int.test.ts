// docker-compose.yml must be a valid Compose file. Validated with `docker compose config -q`
// (Compose v2 plugin) or, where only Debian's docker-compose v1 is installed, with
// `docker-compose config -q`. Neither needs a Docker engine.
import { spawnSync } from "node:child_process";
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
// Skip only when there is no Docker tooling at all; a docker client without any compose
// implementation is a setup error (.ci/run installs docker-compose) and fails below.
const noDockerTooling = !dockerClient && compose === null;

describe("docker-compose.yml", () => {
  it.skipIf(noDockerTooling)(
    noDockerTooling ? "is valid (SKIPPED: neither the docker client nor docker-compose is installed)" : "is accepted by `compose config -q`",
    () => {
      expect(compose, "the docker client is here but no compose implementation: apt-get install -y docker-compose").not.toBeNull();
      if (compose === null) return;
      const [cmd, pre] = compose;
      const file = path.join(repoRoot, "docker-compose.yml");
      const q = spawnSync(cmd, [...pre, "-f", file, "config", "-q"], { cwd: repoRoot, encoding: "utf8" });
      expect(q.status, `${cmd} ${pre.join(" ")} config -q said:\n${q.stdout}${q.stderr}`).toBe(0);
      const full = spawnSync(cmd, [...pre, "-f", file, "config", "--services"], { cwd: repoRoot, encoding: "utf8" });
      expect(full.status, full.stderr).toBe(0);
      expect(full.stdout.split("\n").filter(Boolean).sort()).toEqual(
        ["grafana", "kafka", "prometheus", "redis", "schema-registry", "vigil"].sort(),
      );
    },
  );
});
