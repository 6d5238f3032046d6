import { useRef, useState, type PointerEvent, type ReactNode } from "react";
import { Button } from "../Button";
import "./condition.css";

export interface SortableProps<T> {
  /** The accessible name of the list. */
  label: string;
  items: T[];
  itemKey: (item: T) => string;
  /** How the item is named in the move buttons: "Move <name> up". */
  itemName: (item: T, index: number) => string;
  /** Called with the new order when the user drops an item elsewhere or moves it by a button. */
  onMove: (from: number, to: number) => void;
  render: (item: T, index: number) => ReactNode;
  /** Refuse moves meanwhile (a save in flight). */
  disabled?: boolean;
}

/** moved returns items with the one at from placed at to. */
export function moved<T>(items: T[], from: number, to: number): T[] {
  const out = items.slice();
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x as T);
  return out;
}

/**
 * Sortable is an ordered list whose items move by dragging their handle
 * with a mouse, pen or finger, or by their "up" and "down" buttons from
 * the keyboard. It only reports moves: the caller persists the order and
 * gives the new items back.
 */
export function Sortable<T>({ label, items, itemKey, itemName, onMove, render, disabled = false }: SortableProps<T>) {
  const list = useRef<HTMLOListElement>(null);
  const [drag, setDrag] = useState<{ from: number; over: number } | null>(null);

  // The slot under the pointer: the first item whose middle is below it.
  const slotAt = (y: number): number => {
    const els = Array.from(list.current?.children ?? []);
    for (let i = 0; i < els.length; i++) {
      const r = els[i]!.getBoundingClientRect();
      if (y < r.top + r.height / 2) return i;
    }
    return Math.max(0, els.length - 1);
  };

  const down = (i: number) => (e: PointerEvent<HTMLButtonElement>) => {
    if (disabled || e.button !== 0) return;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    setDrag({ from: i, over: i });
  };
  const move = (e: PointerEvent<HTMLButtonElement>) => {
    if (!drag) return;
    const over = slotAt(e.clientY);
    if (over !== drag.over) setDrag({ ...drag, over });
  };
  const up = () => {
    if (!drag) return;
    const { from, over } = drag;
    setDrag(null);
    if (over !== from) onMove(from, over);
  };

  return (
    <ol className="sortable" aria-label={label} ref={list}>
      {items.map((item, i) => {
        const name = itemName(item, i);
        const cls = ["sortable__item", drag?.from === i ? "sortable__item--dragging" : "", drag && drag.over === i && drag.from !== i ? "sortable__item--over" : ""]
          .filter(Boolean)
          .join(" ");
        return (
          <li key={itemKey(item)} className={cls} data-sortable-key={itemKey(item)}>
            <button
              type="button"
              className="sortable__handle"
              aria-label={`Drag ${name}`}
              title="Drag to reorder"
              disabled={disabled}
              onPointerDown={down(i)}
              onPointerMove={move}
              onPointerUp={up}
              onPointerCancel={() => setDrag(null)}
            >
              ⠿
            </button>
            <div className="sortable__body">{render(item, i)}</div>
            <div className="sortable__moves">
              <Button aria-label={`Move ${name} up`} disabled={disabled || i === 0} onClick={() => onMove(i, i - 1)}>
                ↑
              </Button>
              <Button aria-label={`Move ${name} down`} disabled={disabled || i === items.length - 1} onClick={() => onMove(i, i + 1)}>
                ↓
              </Button>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
