import type { components } from "../../api/schema";

export type Trigger = components["schemas"]["WorkflowOut"]["trigger"];

/** The triggers in the order of a quote's life. */
export const triggers: Trigger[] = ["quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"];
