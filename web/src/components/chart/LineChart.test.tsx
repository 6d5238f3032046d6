import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, test } from "vitest";
import { LineChart } from "./LineChart";
import { labelIndexes, linePath, niceMax, summarize } from "./geometry";

describe("chart geometry", () => {
  test("the axis top is a round number at or above the maximum", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(23)).toBe(25);
    expect(niceMax(180)).toBe(200);
    expect(niceMax(1000)).toBe(1000);
  });
  test("a line goes from the bottom at 0 to the top at the maximum, evenly over the buckets", () => {
    expect(linePath([0, 5, 10], 10, 100, 50)).toBe("M0.0 50.0L50.0 25.0L100.0 0.0");
    expect(linePath([3], 10, 100, 50)).toBe("M0 35.0H100");
    expect(linePath([], 10, 100, 50)).toBe("");
  });
  test("axis labels are spread with the first and last kept", () => {
    expect(labelIndexes(168, 6)).toEqual([0, 33, 67, 100, 134, 167]);
    expect(labelIndexes(3, 6)).toEqual([0, 1, 2]);
  });
  test("the summary names totals and the peak", () => {
    expect(summarize("Failures", ["Mon", "Tue"], [{ name: "email", values: [1, 4] }, { name: "whatsapp", values: [0, 2] }])).toBe(
      "Failures: 7 in 2 buckets from Mon to Tue. By series: email 5, whatsapp 2. Highest: 4 (email) at Tue.",
    );
    expect(summarize("Failures", ["Mon"], [{ name: "email", values: [0] }])).toBe("Failures: none in 1 buckets from Mon to Mon.");
  });
});

describe("LineChart", () => {
  test("is an image named by its summary, with a legend and a data table of every figure", () => {
    render(<LineChart title="Retries" labels={["09:00", "10:00", "11:00"]} series={[{ name: "quote.sent", values: [2, 0, 5] }, { name: "quote.viewed", values: [1, 1, 0] }]} />);
    const img = screen.getByRole("img");
    expect(img.getAttribute("aria-label")).toContain("Retries: 9 in 3 buckets from 09:00 to 11:00");
    expect(img.querySelectorAll("path")).toHaveLength(2);
    const legend = screen.getByRole("list", { name: "Retries: legend" });
    expect(within(legend).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["quote.sent 7", "quote.viewed 2"]);
    // The table is built when its disclosure is first opened.
    expect(screen.queryByRole("table")).toBeNull();
    const details = screen.getByText("Table of retries").closest("details")!;
    act(() => {
      details.open = true;
      fireEvent(details, new Event("toggle"));
    });
    const table = screen.getByRole("table", { name: "Retries" });
    const rows = within(table).getAllByRole("row").map((r) => r.textContent);
    expect(rows).toEqual(["Bucketquote.sentquote.viewed", "09:0021", "10:0001", "11:0050"]);
  });
});
