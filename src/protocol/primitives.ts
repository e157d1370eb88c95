import { z } from "zod";

/** RFC 3339 timestamp with a zone (`Z` or `±hh:mm`), as the contract requires. */
export const Timestamp = z.iso.datetime({ offset: true });

export const Sensitivity = z.enum(["public", "internal", "confidential", "restricted"]);
export type Sensitivity = z.infer<typeof Sensitivity>;

/** Ordered from least to most sensitive; used to compare a classification with a ceiling. */
export const SENSITIVITY_ORDER: readonly Sensitivity[] = ["public", "internal", "confidential", "restricted"];

export const sensitivityRank = (s: Sensitivity): number => SENSITIVITY_ORDER.indexOf(s);

export const ActionKind = z.enum(["read", "write", "delete", "execute", "egress", "admin"]);
export type ActionKind = z.infer<typeof ActionKind>;

/** Whose words a tool output is: third-party content (mail, pages, files, others' messages) is `untrusted`. */
export const OutputTrust = z.enum(["trusted", "untrusted", "unknown"]);
export type OutputTrust = z.infer<typeof OutputTrust>;
