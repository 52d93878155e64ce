/**
 * App-wide setup, loaded by the Functions host before the function files (package.json main).
 */
import { app } from '@azure/functions';

app.setup({ enableHttpStream: false });
