// A failed read shown where its data would be: the API's code and message, as an alert.

import { explain } from '../api.js';

export function Problem({ error }: { error: unknown }) {
  return (
    <p class="error" role="alert">
      {explain(error)}
    </p>
  );
}
