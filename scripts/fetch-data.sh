#!/usr/bin/env bash
# being written (seqdata)
exit 1
