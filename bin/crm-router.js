#!/usr/bin/env node
// The sources are TypeScript run through tsx's loader, so an installed crm-router needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../lib/main.ts');
