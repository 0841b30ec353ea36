import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type EventPage, type KeySummary } from './api.js';
import { Dialog, FormFooter } from './dialog.js';
import {
  DEFAULT_GRACE_SECONDS,
  describeEvent,
  GRACE_CHOICES,
  type KeyEvent,
} from './key-settings.js';

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/** An RFC 3339 time in the reader's locale and time zone. */
export function formatDate(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : DATE_TIME.format(date);
}

/** A time element; in a narrow column it wraps between the day and the time of day only. */
export function When({ value }: { value: string }) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <>{value}</>;
  return (
    <time dateTime={value}>
      <span class="nowrap">{DAY.format(date)},</span>{' '}
      <span class="nowrap">{CLOCK.format(date)}</span>
    </time>
  );
}

/** Roll: a new secret for the key, with a grace period for the current one. */
export function RollDialog({
  keyInfo,
  busy,
  error,
  onRoll,
  onCancel,
}: {
  keyInfo: KeySummary;
  busy: boolean;
  error: string | null;
  onRoll: (graceSeconds: number) => void;
  onCancel: () => void;
}) {
  const [grace, setGrace] = useState(DEFAULT_GRACE_SECONDS);
  return (
    <Dialog title={`Roll ${keyInfo.name}`} onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onRoll(grace);
        }}
        noValidate
      >
        <p>
          Rolling gives <strong>{keyInfo.name}</strong> (<code>{keyInfo.api_key_id}</code>) a new
          secret, shown once. Its ID, name, permissions, expiry and allowed addresses stay the same.
        </p>
        <fieldset aria-describedby="grace-hint">
          <legend>Keep the current key working for</legend>
          <p id="grace-hint" class="hint">
            A grace period lets you replace the key everywhere before the current one stops working.
          </p>
          {GRACE_CHOICES.map((choice) => (
            <label key={choice.seconds} class="choice">
              <input
                type="radio"
                name="grace"
                value={choice.seconds}
                checked={grace === choice.seconds}
                onChange={() => setGrace(choice.seconds)}
              />
              {choice.label}
            </label>
          ))}
        </fieldset>
        <FormFooter
          error={error}
          busy={busy}
          busyLabel="Rolling…"
          submitLabel="Roll & View"
          onCancel={onCancel}
        />
      </form>
    </Dialog>
  );
}

/** Lists of more than this many scopes fold away behind a disclosure. */
const INLINE_SCOPES = 6;

function Scopes({ label, scopes }: { label: string; scopes: readonly string[] }) {
  if (scopes.length === 0) return null;
  const list = scopes.map((s, i) => (
    <span key={s}>
      {i > 0 && ', '}
      <code>{s}</code>
    </span>
  ));
  if (scopes.length <= INLINE_SCOPES) {
    return (
      <p class="event-line">
        {label}: {list}
      </p>
    );
  }
  return (
    <details class="event-line">
      <summary>
        {label} ({scopes.length})
      </summary>
      <p>{list}</p>
    </details>
  );
}

function EventItem({
  event,
  keyName,
  id,
}: {
  event: KeyEvent;
  keyName: (id: string) => string | undefined;
  id: string;
}) {
  const words = describeEvent(event, formatDate, keyName);
  return (
    <li id={id} class="event" tabIndex={-1}>
      <p class="event-head">
        <strong>{words.action}</strong> <When value={event.time} />
      </p>
      <p class="event-line hint">
        By {words.actor}, from {words.source}
      </p>
      <Scopes label="Scopes added" scopes={event.scopes_added} />
      <Scopes label="Scopes removed" scopes={event.scopes_removed} />
      {words.details.map((line, i) => (
        <p key={i} class="event-line">
          {line}
        </p>
      ))}
    </li>
  );
}

/** A key's audit history, newest first, a page at a time. */
export function HistoryDialog({
  keyInfo,
  load,
  keyName,
  onClose,
}: {
  keyInfo: KeySummary;
  load: (cursor?: string) => Promise<EventPage>;
  keyName: (id: string) => string | undefined;
  onClose: () => void;
}) {
  const [events, setEvents] = useState<KeyEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const focusIndex = useRef<number | null>(null);

  async function fetchPage(after?: string) {
    setLoading(true);
    setError(null);
    try {
      const page = await load(after);
      // After "Load more", focus moves to the first new event (the button may disappear).
      if (after) focusIndex.current = events?.length ?? 0;
      setEvents(after ? [...(events ?? []), ...page.result] : page.result);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The history could not be loaded.');
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    fetchPage();
  }, []);

  useEffect(() => {
    if (focusIndex.current === null) return;
    document.getElementById(`event-${focusIndex.current}`)?.focus();
    focusIndex.current = null;
  }, [events]);

  return (
    <Dialog title={`History of ${keyInfo.name}`} onClose={onClose}>
      <p class="hint">
        Changes to <code>{keyInfo.api_key_id}</code>, newest first.
      </p>
      {events === null && loading && <p role="status">Loading history…</p>}
      {events !== null && events.length === 0 && (
        <p>No events recorded for this key yet. Changes made to it will appear here.</p>
      )}
      {events !== null && events.length > 0 && (
        <ol class="events" aria-label={`Events of ${keyInfo.name}`}>
          {events.map((event, i) => (
            <EventItem key={event.id} id={`event-${i}`} event={event} keyName={keyName} />
          ))}
        </ol>
      )}
      <LoadedDialogActions
        error={error}
        onRetry={events === null ? () => fetchPage() : undefined}
        onClose={onClose}
      >
        {cursor && (
          <button type="button" disabled={loading} onClick={() => fetchPage(cursor)}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </LoadedDialogActions>
    </Dialog>
  );
}

/**
 * The foot of a dialog that shows what it loaded: why loading failed, its own buttons, Retry
 * (after a failure, where `onRetry` is given) and Close.
 */
export function LoadedDialogActions({
  error,
  onRetry,
  onClose,
  children,
}: {
  error: string | null;
  onRetry: (() => void) | undefined;
  onClose: () => void;
  children?: ComponentChildren;
}) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        {children}
        {error && onRetry && (
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        )}
        <button type="button" class="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </>
  );
}
