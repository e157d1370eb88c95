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
# Every knob the scorers use has its default here and nowhere else (docs/policy.md, docs/scorers.md).
scoring:
  halfLifeSeconds: 900
  weights:
    intent.unknown: 0.3
    intent.out_of_scope: 0.6
    intent.resource_out_of_scope: 0.5
    intent.unrelated_capability: 0.35
    intent.expired: 0.5
    intent.destination_not_in_goal: 0.5
    intent.unfamiliar_toolkit: 0.6
    intent.judge_drift: 0.6
    intent.injected_instructions: 0.05
    intent.instructed_value: 0.8
    intent.third_party_destination: 0.45
    intent.delegated_destination: 0.5
    intent.instructed_call: 0.55
    sensitivity.above_ceiling: 0.6
    sensitivity.unexpected_tag: 0.4
    baseline.new_capability: 0.2
    baseline.new_destination: 0.3
    baseline.rate_spike: 0.3
    baseline.harmful_burst: 0.5
    baseline.rare_transition: 0.05
    context.device_noncompliant: 0.55
    context.new_geo: 0.3
    context.new_ip: 0.1
    context.unusual_hour: 0.15
  factors:
    toolRisk: { low: 0.5, medium: 1, high: 1.4, critical: 1.8 }
    kind: { read: 0.5, write: 1, execute: 1.2, egress: 1.3, delete: 1.4, admin: 1.6 }
    maxScope: 1.8
    familiarRead: 0.5
    writeDestination: 0.8
    bareName: 0.5
    repeat: 0.5
    instructedRead: 0.75
    instructedMention: 0.75
    mentionInName: 0
    ambiguousOrder: 0.9
    suspectText: 1.5
    goalAction: 0
    keptWrite: 0.25
    goalNewTool: 0.5
    restrictedCeiling: 1.25
    lowSensitivityTag: 0.5
  baseline: { minSessions: 5, minActions: 20, repeatedReads: 3, newToolsTogether: true, rateSpikeFloor: 10, rateSpikeMultiple: 3, rateWindowSeconds: 60 }
  burst: { windowSeconds: 60, minActions: 6, multiple: 3, decision: step_up }
  toolkits: { minToolkits: 8, sharedFloor: 3, sharedShare: 0.125, byTool: true, namedOnly: true, goalValueRead: true }
  catalog: { ownVerb: true, ownVerbRelates: true, verbLists: true }
  grants: { maxTtlSeconds: 3600 }
  review:
    feedback: { step: 0.5, floor: 0.25, halfLifeSeconds: 2592000 }
  judge: { askFrom: 0.15 }
  # Without strong evidence, the first response asks and a revoke stops at a downgrade.
  # Strong: a value only an order named, and a boundary the caller declared (scope, resources, ceiling, expiry).
  ladder:
    enabled: true
    declineNeedsFinding: true
    strong: [intent.instructed_value, intent.out_of_scope, intent.resource_out_of_scope, sensitivity.above_ceiling, intent.expired]
  outputs: { maxScannedChars: 65536, maxValues: 128, fieldWords: 5, readTerms: 2, orderValues: 16, keyWords: 4, keyChars: 40, valueKeys: true, inlinePassage: true, addressLists: true, literalPassages: true, goalAddresses: true, toolObjects: true, goalRecords: true, dates: true }
  words:
    verbs:
      egress: [send, post, share, upload, transfer, email, mail, publish, forward, invite, pay, refund, reimburse, wire, export, notify, message, tweet, reply, sms]
      delete: [delete, remove, drop, purge, destroy, erase, cancel]
      admin: [admin, grant, role, permission, configure, password, sudo]
      execute: [execute, run, exec, invoke, deploy, install, shell]
      write: [create, update, write, set, add, edit, modify, approve, submit, book, reserve, schedule, change, move, rename, append, request]
      read: [get, list, read, search, find, view, fetch, query, check, show, download, summarize, summarise, lookup, retrieve, visit, see, browse, look]
    catalogVerbs: { return: read, access: admin, terminal: execute, command: execute }
    howWords: [given, specified, provided, current, list, summary]
    nounVerbs: [admin, role, permission, password, email, mail, message, sms, tweet, shell]
    stopWords: [please, can, could, would, will, let, need, want, help, also, just, now, new, thanks, thank, hi, hey, hello]
    sensitivity:
      secret: [secret, vault, key, token, credential]
      credentials: [credential, password, login, token, key]
      pii: [customer, employe, person, user, contact, address, profil, pii]
      financial: [financ, expens, invoic, payment, pay, bank, budget, account, transaction, bill, salary, report]
      strategic: [strateg, roadmap, plan, merger, acquisition, board]
    highSensitivity: [secret, secrets, credentials, credential, password, token, key]
    destinationArgs: [to, cc, bcc, recipient, email, emailaddress, address, url, link, iban, account, accountnumber, accountid, destination, dest, target, webhook, endpoint, host, domain, phone, phonenumber, participant, attendee, user, channel]
    linkTlds: [com, org, net, io, dev, app, info, biz, co, uk, de, fr, ru, cn, xyz, site, online, top, me, ly, gl, to, us, ca, au, eu, nl, es, it, ch, se, dk, fi, ie, at, be, pt, cz, gr, hu, ro, ua, il, tr, za, nz, sg, hk, tw, jp, kr, br, mx, ar, cl, tv, cc, ws, pro, shop, store, club, live, link, tech, cloud, ai, vip, click, work, space, website, fun, icu, buzz, best, life, world, today, news, email, digital, network, page, blog, gov, edu, mil, int, ru, su, cn, ir, kp, in, id, my, ph, th, vn]
    notNames: [the, and, for, you, your, our, all, any, this, that, with, from, info, admin, support, contact, team, sales, hello, mail, noreply, user]
    notValues: ["true", "false", none, "null", undefined, nan, "yes", "no", n/a, me]
    months: [january, february, march, april, may, june, july, august, september, october, november, december, jan, feb, mar, apr, jun, jul, aug, sep, sept, oct, nov, dec]
    grammar:
      courtesy: [thank, thanks, sorry, welcome, regards, cheers, congratulations, greetings, bye]
      politeness: [please, kindly, pls, plz]
      openers: [please, kindly, also, then, now, first, firstly, next, finally, lastly, and, so, just, immediately, urgently, additionally, afterwards, simply, quickly, again, ok, okay, hey, hi, hello, dear, secondly, thirdly]
      auxiliaries: [is, was, are, were, be, been, has, have, had, will, would, can, could, should, may, might, must, shall, of, s]
      obligation: [must, should, need, needs, shall, ought, required, want, wants]
      haveTo: [have, has, need, needs]
      negators: [not, never, "don't", dont, "do not"]
      toUser: [me, us]
      you: [you, your, yourself, u]
      modals: [should, must, shall]
    delegation:
      carryOut: [follow, do, perform, complete, execute, carry, handle, fulfil, fulfill, implement, action, obey, apply]
      orders: [instruction, instructions, task, tasks, todo, todos, action, actions, step, steps, request, requests, order, orders, directions, item, items]
      sourceSays: [asks, says, requests, wants, specifies, demands, tells, instructs]
      pointers: [it, what]
      ownList: [following, these, below, above, listed]
`;
