// The server's own requests and notifications beyond LSP, shared by the server and its clients
// (the VS Code extension's "Check a packet…" command and status bar item).
import type { PacketSpec } from '../analysis/packet-spec';
import type { ExplainAnswer, QueryAnswer } from './query';

/** One packet's verdict and trace in an open document: `queryPacket` as a request. */
export const QUERY_REQUEST = 'fwlens/query';
export interface QueryParams {
  uri: string;
  packet: PacketSpec;
  /** A chain or hook name; the document's default entry (filter INPUT, the input hook) when absent. */
  chain?: string;
}
export type QueryResult = QueryAnswer | { error: string };

/** A CIDR split into the parts each rule decides: `explainCidr` as a request. */
export const EXPLAIN_REQUEST = 'fwlens/explain';
export interface ExplainParams {
  uri: string;
  cidr: string;
  as?: 'src' | 'dst';
  chain?: string;
}
export type ExplainResult = ExplainAnswer | { error: string };

/** Sent when the server starts and finishes analysing a document (for a status bar item). */
export const STATUS_NOTIFICATION = 'fwlens/status';
export interface StatusParams {
  uri: string;
  version: number;
  state: 'analyzing' | 'idle';
  /** Milliseconds the analysis took (with state 'idle'). */
  ms?: number;
  /** Set when the document could not be analysed at all (unknown format). */
  error?: string;
}
