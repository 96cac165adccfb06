import type { Generated } from 'kysely';

/** Baton's own tables (customer data lives in dynamic `data` tables described by the workspace schema). */
export interface BatonTables {
  workspace_schemas: {
    version: number;
    /** The normalised workspace schema as JSON. */
    document: string;
    applied_at: string;
  };
  imports: {
    id: string;
    table_name: string;
    file_name: string;
    mode: string;
    dry_run: number | boolean;
    status: string;
    rows_read: number;
    inserted: number;
    updated: number;
    deleted: number;
    not_found: number;
    duplicates: number;
    rejected_rows: number;
    committed_rows: number;
    message: string | null;
    /** The file's header fields as a JSON array (for the rejects CSV). */
    header: string | null;
    started_at: string;
    finished_at: string | null;
  };
  import_rejections: {
    id: Generated<number>;
    import_id: string;
    line: number;
    column_name: string | null;
    value: string | null;
    reason: string;
    /** The rejected record's fields as a JSON array, to rebuild a rejects CSV. */
    record: string;
  };
  saved_filters: {
    id: string;
    label: string;
    description: string | null;
    dimension: string;
    /** The rule as JSON. */
    rule: string;
    /** The declared parameters as JSON: [{ name, type, label?, default? }]. */
    parameters: string;
    shared: number | boolean;
    favorite: number | boolean;
    /** The user who saved it (null until users exist). */
    owner: string | null;
    created_at: string;
    updated_at: string;
  };
  campaigns: {
    id: string;
    name: string;
    description: string | null;
    /** The tags as a JSON array. */
    tags: string;
    status: string;
    /** The campaign document as given, as JSON (exported back as YAML). */
    document: string;
    created_at: string;
    updated_at: string;
    /** The latest published version (campaign_versions), null for a campaign never published. */
    version: number | null;
    status_changed_at: string | null;
  };
  campaign_versions: {
    campaign_id: string;
    version: number;
    /** The document as published: what live runs of this version execute. Never changed. */
    document: string;
    published_at: string;
  };
  schedules: {
    /** A published recurring or dated campaign's launches (src/campaigns/schedule.ts computes them). */
    campaign_id: string;
    version: number;
    /** The schedule as the document gives it, as JSON. */
    schedule: string;
    /** The next launch (epoch ms), null when none is left (validity over, closed). */
    next_at: number | null;
    last_at: number | null;
    updated_at: string;
  };
  send_confirmations: {
    run_id: string;
    activity: string;
    confirmed_at: string;
  };
  workers: {
    /** Each server and worker process, with its heartbeat (epoch ms). */
    id: string;
    /** server | worker */
    kind: string;
    host: string;
    pid: number;
    started_at: string;
    seen_ms: number;
    /** Whether it is the scheduler's leader now. */
    scheduler: boolean | number;
  };
  runs: {
    id: string;
    campaign_id: string;
    /** test | live */
    mode: string;
    /** manual | schedule | signal */
    trigger: string;
    /** running | waiting | pausing | paused | stopping | stopped | done | failed */
    status: string;
    /** The campaign document the run executes, as JSON. */
    document: string;
    /** The run's "now" (epoch ms): rules' GetDate and *Ago read it. */
    now_ms: number;
    error: string | null;
    started_at: string;
    finished_at: string | null;
    /** When the working tables were dropped after the retention. */
    purged_at: string | null;
    /** The process executing the run, and until when (epoch ms) its claim holds. */
    lease_owner: string | null;
    lease_until: number | null;
    /** The campaign version a live run executes (null for test runs, which run the draft). */
    version: number | null;
    /** A signal's parameters (the run's variables), as JSON. */
    variables: string | null;
  };
  run_tasks: {
    run_id: string;
    activity: string;
    /** pending running waiting paused needs-confirmation done failed skipped */
    state: string;
    error: string | null;
    started_at: string | null;
    finished_at: string | null;
    /** A waiting task's wake-up time (epoch ms, on the run's clock). */
    wake_at: number | null;
    /** A breakpoint (`pause: true`) that a resume let through. */
    released: Generated<boolean | number>;
    attempts: Generated<number>;
  };
  run_transitions: {
    run_id: string;
    activity: string;
    /** '' for the activity's main output. */
    port: string;
    working_table: string;
    dimension: string | null;
    row_count: number;
    /** The columns beyond the dimension's keys, as JSON [{ name, type }]. */
    columns: string | null;
    /** Whether the transition fired (a skip-empty segment is recorded but does not fire). */
    fired: Generated<boolean | number>;
    created_at: string;
  };
  run_logs: {
    id: Generated<number>;
    run_id: string;
    activity: string | null;
    level: string;
    message: string;
    /** Structured fields as JSON ({ rows, ms, port… }). */
    fields: string | null;
    at: string;
  };
  campaign_signals: {
    id: Generated<number>;
    campaign_id: string;
    /** The signal's parameters as JSON. */
    parameters: string;
    source_run: string;
    source_activity: string;
    created_at: string;
    consumed_at: string | null;
    /** `run <id>`, or why no run started. */
    outcome: string | null;
  };
  incremental_marks: {
    campaign_id: string;
    activity: string;
    /** test | live: test runs keep their own marks. */
    mode: string;
    /** The latest value (epoch ms) of the date-time field the query has returned. */
    mark_ms: number;
    updated_at: string;
  };
  audiences: {
    id: string;
    /** The save-audience activity's `audience`: unique across campaigns. */
    name: string;
    /** The workspace table the members are rows of. */
    dimension: string;
    /** The members' columns beyond the dimension's keys, as JSON [{ name, type }]. */
    columns: string;
    row_count: number;
    /** The campaign and save-audience activity that own the name, and the live run that last saved it. */
    campaign_id: string;
    activity: string;
    run_id: string;
    /** The generated name of the table holding the members (src/audiences/store.ts places it). */
    members_table: string;
    saved_at: string;
  };
  deliveries: {
    run_id: string;
    activity: string;
    campaign_id: string;
    channel: string;
    provider: string;
    dimension: string;
    /** The channel activity's input working table: the recipients, with the columns they carry. */
    working_table: string;
    /** Those carried columns, as JSON [{ name, type }]. */
    columns: string;
    /** The channel activity's config (content, tracking…), as JSON. */
    config: string;
    created_at: string;
  };
  messages: {
    /** Deterministic: src/delivery/message-id.ts. */
    id: string;
    run_id: string;
    activity: string;
    campaign_id: string;
    channel: string;
    /** The recipient's key in the dimension, as text. */
    recipient: string;
    /** With perRowOf, the key (as text) of the row of the link this message is about; else null. */
    item: string | null;
    address: string | null;
    /** The recipient's place in the send (the window and fairness follow it). */
    position: number;
    /** queued | excluded | sending | sent | delivered | failed | bounced | uncertain */
    status: string;
    /** Why excluded, failed or bounced (a reason code or the provider's words). */
    reason: string | null;
    /** hard | soft, for a bounce. */
    bounce: string | null;
    attempts: Generated<number>;
    /** Epoch ms before which a retry is not tried. */
    next_attempt_at: Generated<number>;
    lease_owner: string | null;
    lease_until: number | null;
    provider: string | null;
    provider_message_id: string | null;
    /** The links of the message, by index, as JSON (what a click token points at). */
    links: string | null;
    queued_at: string;
    sent_at: string | null;
    /** When a provider's receipt said the message was delivered. */
    delivered_at: string | null;
    updated_at: string;
  };
  events: {
    /** A random UUID; a provider's receipt gets one derived from its own id, so a replay adds nothing. */
    id: string;
    message_id: string;
    /** The message's recipient (its key in the dimension, as text), copied so rules join without the ledger. */
    recipient: string;
    campaign_id: string;
    activity: string;
    run_id: string;
    channel: string;
    /** open | click | unsubscribe | bounce | complaint | delivered */
    type: string;
    /** A click's link index in the message, and the URL it led to. */
    link: number | null;
    url: string | null;
    /** false for prefetchers, link scanners and other machine traffic; `machine_reason` says why. */
    human: boolean | number;
    machine_reason: string | null;
    user_agent: string | null;
    /** hard | soft, for a bounce. */
    bounce: string | null;
    reason: string | null;
    at: string;
  };
  /** Events per minute and kind (src/reporting/rollups.ts keeps it equal to a recount of `events`). */
  report_minutes: {
    campaign_id: string;
    run_id: string;
    activity: string;
    channel: string;
    type: string;
    /** 1 for human events, 0 for machine ones. */
    human: number;
    /** Epoch minutes of the events' time. */
    minute: number;
    events: number;
    /** Messages whose first event of this type and human flag falls in this minute. */
    uniques: number;
    /** Messages whose first event of this type, human or not, falls in this minute and has this flag. */
    first_any: number;
  };
  /** The first human and machine event of each type per message (epoch ms), what unique counts rest on. */
  report_firsts: {
    message_id: string;
    type: string;
    campaign_id: string;
    run_id: string;
    activity: string;
    channel: string;
    human_ms: number | null;
    machine_ms: number | null;
  };
  message_previews: {
    run_id: string;
    activity: string;
    recipient: string;
    channel: string;
    /** The rendered message (subject, html, text… / the SMS / the push), or why it could not render, as JSON. */
    content: string;
  };
  quarantine: {
    channel: string;
    address: string;
    reason: string;
    message_id: string | null;
    at: string;
  };
  unsubscriptions: {
    channel: string;
    address: string;
    message_id: string | null;
    at: string;
  };
  rate_buckets: {
    provider: string;
    tokens: number;
    taken: number;
    updated_ms: number;
  };
  outbox_messages: {
    id: string;
    /** email | sms | push */
    channel: string;
    /** The ledger's message id, or an email's Message-ID (without angle brackets). */
    message_id: string | null;
    /** An address, a phone number, or a device token / push subscription. */
    recipient: string;
    sender: string | null;
    /** An email's subject, a push notification's title. */
    subject: string | null;
    /** The text part, the SMS text, the push body. */
    text: string | null;
    html: string | null;
    /** JSON: an email's headers; an SMS's encoding and segments; a push's data and deep link. */
    headers: string;
    /** An email's source as received (RFC 5322). */
    raw: string | null;
    provider_id: string | null;
    received_at: string;
  };
}
