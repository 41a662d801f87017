# shellcheck shell=bash
# Example handler `greeting.handler`: {"name": "Ada"} -> {"greeting": "Hello, Ada!"}.
# Any other event is bad input: the handler says why on stderr and exits non-zero, which
# ./bootstrap reports as a Function.HandlerError (and logs) before it goes on to the next event.
# The message gives the event's size, never any of its content: it is written to the log.

# Exactly one key. The name allows no quote or backslash, so it can go into the JSON answer as it
# is; bash has no JSON parser, and provided.al2023 has no jq.
readonly GREETING_EVENT_PATTERN='^[[:space:]]*\{[[:space:]]*"name"[[:space:]]*:[[:space:]]*"([[:alpha:] '\''-]{1,64})"[[:space:]]*\}[[:space:]]*$'

handler() {
  local event=$1
  if [[ ! $event =~ $GREETING_EVENT_PATTERN ]]; then
    local LC_ALL=C # ${#event} counts bytes, whatever the handler's locale
    printf 'bad input (an event of %d bytes): expected {"name": "..."} with 1 to 64 letters, spaces, apostrophes or hyphens\n' \
      "${#event}" >&2
    return 1
  fi
  printf '{"greeting":"Hello, %s!"}' "${BASH_REMATCH[1]}"
}
