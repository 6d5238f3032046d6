import type { ReactNode } from "react";

export interface Column<T> {
  /** The header text. */
  header: string;
  /** The cell of one row. */
  cell: (row: T) => ReactNode;
  /** Right-aligned numbers. */
  numeric?: boolean;
}

export interface TableProps<T> {
  /** The table's caption: its accessible name. */
  caption: string;
  columns: Array<Column<T>>;
  rows: T[];
  rowKey: (row: T) => string;
  /** What to say when rows is empty. */
  empty?: ReactNode;
}

/** Table is a plain data table with a caption, header cells and an empty state; it scrolls sideways on narrow screens. */
export function Table<T>({ caption, columns, rows, rowKey, empty = "Nothing yet." }: TableProps<T>) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" className={c.numeric ? "num" : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="table__empty">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={rowKey(r)}>
                {columns.map((c) => (
                  <td key={c.header} className={c.numeric ? "num" : undefined}>
                    {c.cell(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
