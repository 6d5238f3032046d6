import { describe, expect, test } from "vitest";
import { fromJSON, newLeaf, summary, toJSON, withField, type ConditionJSON } from "./model";

const representative: Array<[string, ConditionJSON]> = [
  ["the catch-all", { all: [] }],
  ["an empty any", { any: [] }],
  ["a lone leaf", { field: "lead.country", op: "eq", value: "PT" }],
  [
    "nested groups with every value type",
    {
      all: [
        { field: "lead.country", op: "in", value: ["PT", "ES"] },
        { field: "quote.amount", op: "gte", value: 1000.5 },
        { field: "lead.whatsapp_opt_in", op: "eq", value: true },
        { any: [{ field: "lead.tags", op: "contains", value: "vip" }, { all: [{ field: "lead.email", op: "exists" }] }] },
        { field: "quote.valid_until", op: "lt", value: "2026-06-01T00:00:00Z" },
      ],
    },
  ],
  ["custom fields of each type", { any: [{ field: "lead.custom.roof", op: "eq", value: "tile" }, { field: "lead.custom.floors", op: "gt", value: 2 }, { field: "lead.custom.urgent", op: "eq", value: false }, { field: "lead.custom.zone", op: "nin", value: [1, 2] }] }],
  ["missing takes no value", { field: "lead.phone", op: "missing" }],
];

describe("condition model", () => {
  test.each(representative)("JSON -> builder -> JSON is the same for %s", (_, c) => {
    expect(toJSON(fromJSON(c))).toEqual(c);
  });

  test("a number the user typed badly is sent as typed, for the API to name", () => {
    const leaf = { ...newLeaf(), field: "quote.amount", op: "gt" as const, type: "number" as const, text: "12a" };
    expect(toJSON(leaf)).toEqual({ field: "quote.amount", op: "gt", value: "12a" });
  });

  test("moving to a field that refuses the operator takes the field's first operator and clears the value", () => {
    const leaf = { ...newLeaf(), op: "prefix" as const, text: "P" };
    const n = withField(leaf, "quote.amount");
    expect(toJSON(n)).toEqual({ field: "quote.amount", op: "eq", value: "" });
    expect(n.type).toBe("number");
  });

  test("summary reads as a sentence", () => {
    expect(summary({ all: [{ field: "lead.country", op: "in", value: ["PT", "ES"] }, { field: "lead.email", op: "exists" }] })).toBe(
      "lead.country is one of PT, ES and lead.email is present",
    );
    expect(summary({ all: [] })).toBe("every lead");
    expect(summary(null)).toBe("always");
  });
});
