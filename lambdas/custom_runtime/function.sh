# shellcheck shell=bash
# Example handler `function.handler`: answers with the event it was given, unchanged.
# ./bootstrap sources this file once at init and calls `handler EVENT DEADLINE_MS` per invocation.

handler() {
  printf '%s' "$1"
}
