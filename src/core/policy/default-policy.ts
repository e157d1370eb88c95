// The policy that ships with Vigil and applies when no file is given (docs/policy.md
// explains every entry). A policy file with `extends: default` is merged over it.
export const DEFAULT_POLICY_YAML = `version: 1
extends: none
tools: []
separationOfDuties:
  # Maker/checker: whoever submitted or requested something may not approve it,
  # whichever agent or session of theirs tries. "*" binds the same domain in both steps.
  - id: maker-checker-submit
    steps: ["*.submit", "*.approve"]
    sameResource: true
    across: principal
    decision: downgrade
    review: true
  - id: maker-checker-request
    steps: ["*.request", "*.approve"]
    sameResource: true
    across: principal
    decision: downgrade
    review: true
sequences:
  # Exfiltration: sensitive data read, then sent to an external destination.
  - id: exfiltration
    first:
      - { sensitivity: [secret, credentials, pii, financial, strategic] }
      - { minClassification: confidential }
    then: { kind: [egress], external: true }
    withinSeconds: 3600
    decision: revoke
    review: true
rules:
  # A session touching secrets or credentials with no secrets.* capability in its intent.
  - id: secrets-outside-intent
    when: >-
      event.type == "action"
      && event.resource.sensitivity.exists(t, t == "secret" || t == "credentials")
      && !session.intent.capabilities.exists(c, c.startsWith("secrets."))
    decision: revoke
    review: true
    message: secrets or credentials accessed outside the declared intent
  # Destructive admin actions on restricted data always need a fresh authentication.
  - id: restricted-admin
    when: >-
      event.type == "action" && event.action.kind in ["admin", "delete"]
      && event.resource.classification == "restricted"
    decision: step_up
    message: admin or delete on restricted data
thresholds: { step_up: 0.5, downgrade: 0.7, revoke: 0.9 }
scoring:
  halfLifeSeconds: 900
  baseline: { minSessions: 5, minActions: 20 }
  grants: { maxTtlSeconds: 3600 }
`;
