import { describe, expect, it } from 'vitest';
import { exitCodeOf } from './exec.js';

describe('exitCodeOf', () => {
  it('passes the command’s exit code through', () => {
    expect(exitCodeOf({ exit_code: 0, signal: null, timed_out: false })).toBe(0);
    expect(exitCodeOf({ exit_code: 3, signal: null, timed_out: false })).toBe(3);
  });

  it('answers 124 on timeout, as timeout(1) does, even when the kill left a signal', () => {
    expect(exitCodeOf({ exit_code: null, signal: 'SIGKILL', timed_out: true })).toBe(124);
  });

  it('answers 128 + the Linux signal number for named and numbered signals', () => {
    expect(exitCodeOf({ exit_code: null, signal: 'SIGKILL', timed_out: false })).toBe(137);
    expect(exitCodeOf({ exit_code: null, signal: 'SIGTERM', timed_out: false })).toBe(143);
    expect(exitCodeOf({ exit_code: null, signal: 'SIGUSR1', timed_out: false })).toBe(138);
    expect(exitCodeOf({ exit_code: null, signal: 'SIG31', timed_out: false })).toBe(159);
  });

  it('answers 1 when the API reports neither a code nor a signal it can map', () => {
    expect(exitCodeOf({ exit_code: null, signal: 'SIGWHAT', timed_out: false })).toBe(1);
    expect(exitCodeOf({ exit_code: null, signal: null, timed_out: false })).toBe(1);
  });
});
