#!/usr/bin/env node
import '../dist/cli/aura-db.mjs'
