// Prints the README's configuration table from the one config schema: `npx tsx scripts/config-table.ts`.
import { configEntries } from '../shared/config.js';

const rows = Object.entries(configEntries).map(([key, entry]) => `| \`${key}\` | \`${entry.default}\` | ${entry.form} | ${entry.help} |`);
process.stdout.write(['| Variable | Default | Accepted | Meaning |', '|---|---|---|---|', ...rows, ''].join('\n'));
