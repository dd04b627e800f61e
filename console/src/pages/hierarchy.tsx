import { useEffect, useState } from 'preact/hooks';
import { api, type AgentRecord, type HierarchyStatus } from '../api.js';
import { Card, ErrorNote, LiveIndicator, message, Meter } from '../components.js';
import { useDebounced, useFollow } from '../live.js';
import { ago } from '../model.js';
import { specialtyGroups } from '../vocabulary.js';

type Layer = keyof HierarchyStatus['layers'];
const layers: { layer: Layer; title: string; about: string }[] = [
  { layer: 'EXECUTIVE', title: 'Executive', about: 'Coordinates every task and supervises quality.' },
  { layer: 'MANAGEMENT', title: 'Management', about: 'One team lead per specialty group: escalations and hand-offs.' },
  { layer: 'SPECIALIST', title: 'Specialists', about: 'Do the subtasks, in pools by specialty group.' },
  { layer: 'EXECUTION', title: 'Execution', about: 'Tools, integrations, automation and scheduling.' },
];

const poolOf = (agent: AgentRecord): string =>
  Object.entries(specialtyGroups).find(([, members]) => (members as readonly string[]).includes(agent.specialties[0] ?? ''))?.[0] ?? 'other';

export function HierarchyPage() {
  const [hierarchy, setHierarchy] = useState<HierarchyStatus | null>(null);
  const [agents, setAgents] = useState<AgentRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    Promise.all([api.hierarchy(), api.agents()])
      .then(([h, a]) => {
        setHierarchy(h);
        setAgents(a.agents.sort((x, y) => x.id.localeCompare(y.id)));
        setError(null);
      })
      .catch((e: unknown) => setError(message(e)));
  };
  const reload = useDebounced(load, 500);
  useEffect(load, []);
  // Leases are taken and given back as subtasks move: their changes are the cue to re-read; heartbeats age on a timer.
  const mode = useFollow('/v1/events', { onChange: (change) => change.kind === 'subtask' && reload(), poll: load });
  useEffect(() => {
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, []);

  const held = agents.reduce((sum, a) => sum + a.load, 0);
  const capacity = agents.reduce((sum, a) => sum + a.capacity, 0);
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Agent hierarchy</h1>
          <p class="muted">Four layers of agents; specialists work in pools by specialty group.</p>
        </div>
        <LiveIndicator mode={mode} />
      </div>
      <ErrorNote error={error} />
      {hierarchy && (
        <div class="tiles">
          <Tile name="Agents" value={hierarchy.totalAgents} detail={`${layers.length} layers · ${Object.keys(hierarchy.pools).length} pools`} />
          <Tile
            name="Health"
            value={`${hierarchy.health.healthy} healthy`}
            detail={`${hierarchy.health.degraded} degraded · ${hierarchy.health.failed} failed · ${hierarchy.health.offline} offline`}
            tone={hierarchy.health.failed + hierarchy.health.offline > 0 ? 'bad' : 'ok'}
          />
          <Tile
            name="Load"
            value={`${hierarchy.load.busy} busy`}
            detail={`${hierarchy.load.available} available · ${hierarchy.load.overloaded} overloaded`}
            tone={hierarchy.load.overloaded > 0 ? 'warn' : 'ok'}
          />
          <Tile name="Leases held" value={`${held} / ${capacity}`} detail="subtask slots taken / capacity" />
        </div>
      )}
      {hierarchy &&
        layers.map(({ layer, title, about }) => {
          const status = hierarchy.layers[layer];
          const members = agents.filter((a) => a.layer === layer);
          return (
            <Card
              key={layer}
              class={`layer layer-${layer.toLowerCase()}`}
              title={
                <span data-testid={`layer-${layer.toLowerCase()}`}>
                  {title} <span class="muted count">{status.count} agents</span>
                </span>
              }
              actions={
                <span class="layer-stats">
                  <span>{status.available} available</span>
                  <span>
                    avg load {Math.round(status.averageLoad * 100)}% <Meter value={status.averageLoad} max={1} />
                  </span>
                </span>
              }
            >
              <p class="muted about">{about}</p>
              {layer === 'SPECIALIST' ? <Pools hierarchy={hierarchy} agents={members} /> : <AgentGrid agents={members} />}
            </Card>
          );
        })}
    </div>
  );
}

function Tile({ name, value, detail, tone }: { name: string; value: string | number; detail: string; tone?: 'ok' | 'warn' | 'bad' }) {
  return (
    <div class={`tile ${tone ? `tile-${tone}` : ''}`}>
      <span class="tile-name">{name}</span>
      <span class="tile-value">{value}</span>
      <span class="tile-detail">{detail}</span>
    </div>
  );
}

function Pools({ hierarchy, agents }: { hierarchy: HierarchyStatus; agents: AgentRecord[] }) {
  return (
    <div class="pools">
      {Object.entries(hierarchy.pools).map(([pool, stats]) => {
        const members = agents.filter((a) => poolOf(a) === pool);
        return (
          <div class="pool" key={pool} data-testid={`pool-${pool}`}>
            <div class="pool-head">
              <h3>{pool === 'qa' ? 'QA' : pool}</h3>
              <span class="muted">{stats.count} agents</span>
              <span class="pool-load">
                {stats.load}/{stats.capacity} <Meter value={stats.load} max={stats.capacity} />
              </span>
            </div>
            <table class="pool-agents">
              <tbody>
                {members.map((a) => (
                  <tr
                    key={a.id}
                    data-agent-id={a.id}
                    class={`agent-${a.status.toLowerCase()}`}
                    title={`${a.id} · ${a.status.toLowerCase()} · ${a.failed} failed · reports to ${a.supervisorId ?? 'nobody'} · heartbeat ${ago(a.lastHeartbeat)}`}
                  >
                    <td>
                      <span class={`dot agent-status-${a.status.toLowerCase()}`} />
                    </td>
                    <td class="agent-name">{name(a)}</td>
                    <td class="num">
                      <Meter value={a.load} max={a.capacity} />
                    </td>
                    <td class="num leases">
                      {a.load}/{a.capacity}
                    </td>
                    <td class="num muted">{a.completed} done</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </div>
  );
}

/** "academic researcher 2" for demo-academic_researcher-2; the role alone where the id adds nothing. */
function name(a: AgentRecord): string {
  const words = (a.role ?? a.id).replace(/_/g, ' ').replace(/\b(qa|api)\b/g, (w) => w.toUpperCase());
  const role = words.charAt(0).toUpperCase() + words.slice(1);
  const ordinal = /-(\d+)$/.exec(a.id)?.[1];
  return ordinal ? `${role} ${ordinal}` : role;
}

function AgentGrid({ agents }: { agents: AgentRecord[] }) {
  if (agents.length === 0) return <p class="empty">No agents in this layer.</p>;
  return (
    <div class="agents">
      {agents.map((a) => (
        <div
          key={a.id}
          class={`agent agent-${a.status.toLowerCase()}`}
          data-agent-id={a.id}
          title={`${a.id}\nreports to ${a.supervisorId ?? 'nobody'}\nheartbeat ${ago(a.lastHeartbeat)}`}
        >
          <div class="agent-head">
            <span class={`dot agent-status-${a.status.toLowerCase()}`} title={a.status.toLowerCase()} />
            <span class="agent-name">{name(a)}</span>
          </div>
          <div class="agent-load">
            <Meter value={a.load} max={a.capacity} />
            <span>
              {a.load}/{a.capacity} leases · {a.status === 'AVAILABLE' ? `${a.completed} done` : a.status.toLowerCase()}
            </span>
          </div>
        </div>
      ))}
    </div>
  );
}
