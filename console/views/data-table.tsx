// A table that scrolls sideways in a narrow window, with its column headings: every list of rows
// the console shows. Lays out what it is given; reads nothing.

import type { ComponentChildren } from 'preact';

export function DataTable({ columns, children }: { columns: readonly string[]; children: ComponentChildren }) {
  return (
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
