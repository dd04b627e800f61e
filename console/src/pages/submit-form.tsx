import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, message } from '../components.js';

const priorities = ['LOW', 'NORMAL', 'HIGH', 'URGENT', 'CRITICAL'];

/** POST /v1/tasks from a form; hands the new workflow's id on. */
export function SubmitForm({ onSubmitted }: { onSubmitted(workflowId: string): void }) {
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState('NORMAL');
  const [requireApproval, setRequireApproval] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { workflowId } = await api.submit({ description: description.trim(), priority, requireApproval });
      setDescription('');
      onSubmitted(workflowId);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} data-testid="submit-form">
      <label>
        <span>Description</span>
        <textarea
          data-testid="submit-description"
          rows={4}
          required
          placeholder="e.g. Research the European e-bike market and write a short report"
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </label>
      <label>
        <span>Priority</span>
        <select data-testid="submit-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
          {priorities.map((p) => (
            <option key={p} value={p}>
              {p.toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" data-testid="submit-approval" checked={requireApproval} onChange={(e) => setRequireApproval(e.currentTarget.checked)} />
        <span>Require approval before it completes</span>
      </label>
      <ErrorNote error={error} />
      <button class="btn btn-primary" type="submit" data-testid="submit-button" disabled={busy || description.trim() === ''}>
        {busy ? 'Submitting…' : 'Submit task'}
      </button>
    </form>
  );
}
