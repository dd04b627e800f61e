import { useEffect, useState } from 'preact/hooks';
import { api, type DeadLetter } from '../api.js';
import { Card, ErrorNote, message } from '../components.js';
import { ago, clockTime } from '../model.js';
import { allTopics } from '../../../shared/events/topics.js';

/** Dead letters by source topic, each with why it failed and a button that publishes it again. */
export function DeadLettersPage() {
  const [letters, setLetters] = useState<DeadLetter[] | null>(null);
  const [topic, setTopic] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const load = () => {
    api
      .deadLetters()
      .then(({ deadLetters }) => {
        setLetters(deadLetters);
        setError(null);
      })
      .catch((e: unknown) => setError(message(e)));
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);

  const redrive = async (id: string) => {
    setBusy(id);
    try {
      await api.redrive(id);
      load();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  };

  const countOf = (t: string) => letters?.filter((l) => l.topic === t).length ?? 0;
  const shown = (letters ?? []).filter((l) => topic === null || l.topic === topic);
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Dead letters</h1>
          <p class="muted">Records a function could not process, kept on each topic's .dlq. Redrive publishes one to its topic again.</p>
        </div>
      </div>
      <div class="filters">
        <button class={`chip ${topic === null ? 'active' : ''}`} onClick={() => setTopic(null)}>
          all topics <b>{letters?.length ?? '…'}</b>
        </button>
        {allTopics.map((t) => (
          <button
            key={t}
            class={`chip ${topic === t ? 'active' : ''} ${countOf(t) > 0 ? 'chip-alert' : ''}`}
            data-testid={`dlq-topic-${t}`}
            onClick={() => setTopic(t)}
          >
            {t.replace(/^amas\./, '')} <b>{countOf(t)}</b>
          </button>
        ))}
      </div>
      <Card title={topic ?? 'All topics'}>
        <ErrorNote error={error} />
        {letters === null ? (
          <p class="empty">Loading…</p>
        ) : shown.length === 0 ? (
          <p class="empty good-empty">No dead letters{topic ? ` on ${topic}` : ''}. Every record was processed.</p>
        ) : (
          <table class="table" data-testid="dead-letter-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Topic</th>
                <th>Consumer</th>
                <th>Reason</th>
                <th>Record</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {shown.map((l) => (
                <tr key={l.id} data-dead-letter-id={l.id}>
                  <td class="muted" title={l.at}>
                    {clockTime(l.at)}
                  </td>
                  <td>
                    <code>{l.topic}</code>
                    <div class="muted small">
                      partition {l.partition ?? '—'} · offset {l.offset ?? '—'}
                    </div>
                  </td>
                  <td>{l.consumer ?? '—'}</td>
                  <td class="reason" title={l.reason}>
                    {l.code && <span class="code">{l.code}</span>}
                    <span class="reason-text">{l.reason}</span>
                  </td>
                  <td>
                    <details>
                      <summary>
                        <code>{l.key ?? l.id}</code>
                      </summary>
                      <pre>{JSON.stringify(l.original, null, 2)}</pre>
                    </details>
                  </td>
                  <td class="actions">
                    {l.redrivenAt && <span class="muted small">redriven {ago(Date.parse(l.redrivenAt))}</span>}
                    <button class="btn btn-ghost" data-testid="btn-redrive" disabled={busy !== null} onClick={() => void redrive(l.id)}>
                      {busy === l.id ? 'Redriving…' : l.redrivenAt ? 'Redrive again' : 'Redrive'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
