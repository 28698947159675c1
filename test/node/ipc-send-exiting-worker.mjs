// A cluster worker that exits at once (ipc-send-primary.ts).
import process from 'node:process';

process.exit(0);
