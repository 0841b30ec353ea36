import { useEffect, useState } from 'preact/hooks';
import { ApiError, type KeySummary } from './api.js';
import { Dialog } from './dialog.js';
import { LoadedDialogActions, When } from './key-dialogs.js';
import {
  type KeyUsage,
  limitsInWords,
  type PeriodUsage,
  periodInWords,
  type SubjectUsage,
} from './key-usage.js';

const NUMBER = new Intl.NumberFormat();
const format = (n: number) => NUMBER.format(n);

/** One period's count, with a meter against its quota when it has one. */
function Period({
  id,
  period,
  when,
}: {
  id: string;
  period: PeriodUsage;
  when: 'today' | 'this month';
}) {
  return (
    <div class="usage-period">
      <p id={id} class="usage-line">
        {periodInWords(period, when, format)}; resets <When value={period.resets_at} />
      </p>
      {period.limit !== null && (
        <meter
          aria-labelledby={id}
          min={0}
          max={period.limit}
          value={Math.min(period.used, period.limit)}
          low={period.limit * 0.8}
          high={period.limit * 0.9}
          optimum={0}
        />
      )}
    </div>
  );
}

/** A key's or an account's limits and counts; when not counted, why nothing is shown. */
function Standing({
  id,
  title,
  usage,
  uncounted,
}: {
  id: string;
  title: string;
  usage: SubjectUsage;
  uncounted: string;
}) {
  const limits = limitsInWords(usage.limits, format);
  return (
    <section class="usage-section" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {!usage.counted || !usage.day || !usage.month ? (
        <p class="hint">{uncounted}</p>
      ) : (
        <>
          {limits.map((line) => (
            <p key={line} class="usage-line hint">
              {line}
            </p>
          ))}
          <Period id={`${id}-day`} period={usage.day} when="today" />
          <Period id={`${id}-month`} period={usage.month} when="this month" />
        </>
      )}
    </section>
  );
}

/**
 * A key's usage against its own limits and its account's plan (`GET /v3/api_keys/{id}/usage`),
 * loaded when the dialog opens: a number nobody counted is never shown as 0.
 */
export function UsageDialog({
  keyInfo,
  load,
  onClose,
}: {
  keyInfo: KeySummary;
  load: () => Promise<KeyUsage>;
  onClose: () => void;
}) {
  const [usage, setUsage] = useState<KeyUsage | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function fetchUsage() {
    setError(null);
    try {
      setUsage(await load());
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The usage could not be loaded.');
    }
  }

  useEffect(() => {
    fetchUsage();
  }, []);

  return (
    <Dialog title={`Usage of ${keyInfo.name}`} onClose={onClose}>
      <p class="hint">
        Requests counted for <code>{keyInfo.api_key_id}</code> and its account, per UTC day and
        month.
      </p>
      {usage === null && !error && <p role="status">Loading usage…</p>}
      {usage && (
        <>
          <Standing
            id="usage-key"
            title="This key's own limits"
            usage={usage.key}
            uncounted="This key has no limits of its own, so its requests are not counted on their own."
          />
          <Standing
            id="usage-account"
            title={
              usage.account.plan
                ? `The account's plan: ${usage.account.plan}`
                : "The account's plan"
            }
            usage={usage.account}
            uncounted="No plan applies to this account: its requests are not counted."
          />
        </>
      )}
      <LoadedDialogActions error={error} onRetry={() => fetchUsage()} onClose={onClose} />
    </Dialog>
  );
}
