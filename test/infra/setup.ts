import { afterAll } from 'vitest';
import { removeAppOutdirs } from './support.js';

// Every infra test file leaves the temp dir as it found it.
afterAll(() => removeAppOutdirs());
