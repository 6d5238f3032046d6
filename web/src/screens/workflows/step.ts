import type { components } from "../../api/schema";
import type { ConditionJSON } from "../../components/condition";

type Step = components["schemas"]["Step"];
/** The body of PATCH .../steps/{step_id}. */
export type StepPatch = components["schemas"]["StepPatch"];
export type StepType = Step["type"];

/** What a step card edits: every field of every type, so that switching type keeps what was typed. */
export interface StepDraft {
  type: StepType;
  subject: string;
  text: string;
  html: string;
  template: string;
  language: string;
  /** One parameter per line. */
  parameters: string;
  /** A WhatsApp step's free-form text, sent instead of the template inside the 24-hour window. */
  waText: string;
  fallback: boolean;
  duration: string;
  when: ConditionJSON | null;
}

export function draftOf(s: Step): StepDraft {
  const email = "email" in s && s.email ? s.email : undefined;
  const wa = s.type === "send_whatsapp" ? s.whatsapp : undefined;
  return {
    type: s.type,
    subject: email?.subject ?? "",
    text: email?.text ?? "",
    html: email?.html ?? "",
    template: wa?.template ?? "",
    language: wa?.language ?? "",
    parameters: (wa?.parameters ?? []).join("\n"),
    waText: wa?.text ?? "",
    fallback: s.type === "send_whatsapp" && s.fallback_channel === "email",
    duration: s.type === "wait" ? s.wait.duration : "",
    when: s.when ?? null,
  };
}

/** patchOf is the whole step as a PATCH: the content of its type, and its condition (null: none). */
export function patchOf(d: StepDraft): StepPatch {
  return stepInOf(d);
}

/** The body of POST .../steps for a new step of a type, with content that is valid as it is where it can be. */
export function newStep(type: StepType): components["schemas"]["AddStepIn"] {
  switch (type) {
    case "send_email":
      return { type, email: { subject: "About your quote {{ quote.number }}", text: "Hello {{ lead.first_name }},\n\nYour quote: {{ quote.url }}" } };
    case "send_whatsapp":
      return { type, whatsapp: { template: "quote_followup", language: "en_US", parameters: ["{{ lead.first_name }}"] } };
    case "wait":
      return { type, wait: { duration: "P1D" } };
  }
}

export const stepTypeNames: Record<StepType, string> = { send_email: "Send an email", send_whatsapp: "Send a WhatsApp message", wait: "Wait" };

/** The body of POST .../steps/validate: the step as adding it would send it, without a position. */
export type StepIn = components["schemas"]["AddStepIn"];

/**
 * stepInOf is the draft's content as validate-step checks it and a PATCH
 * saves it: the fields of its type and its condition. A WhatsApp step's
 * template and text are each sent only when given, since a step may carry
 * either or both.
 */
export function stepInOf(d: StepDraft): StepIn {
  const email = { subject: d.subject, text: d.text, ...(d.html !== "" ? { html: d.html } : {}) };
  const when = d.when;
  switch (d.type) {
    case "send_email":
      return { type: d.type, email, when };
    case "send_whatsapp": {
      const whatsapp: components["schemas"]["WhatsAppContentIn"] = { parameters: d.parameters === "" ? [] : d.parameters.split("\n") };
      // Without text, an empty template is sent so that its problem names it.
      if (d.template !== "" || d.waText === "") whatsapp.template = d.template;
      if (d.language !== "" || d.waText === "") whatsapp.language = d.language;
      if (d.waText !== "") whatsapp.text = d.waText;
      return { type: d.type, whatsapp, fallback_channel: d.fallback ? "email" : "", ...(d.fallback ? { email } : {}), when };
    }
    case "wait":
      return { type: d.type, wait: { duration: d.duration }, when };
  }
}
