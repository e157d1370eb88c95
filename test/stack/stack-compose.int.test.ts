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
});
