// assistant-stream-ce demo page: streams a reply over the selected wire protocol and renders
// text, reasoning, tool calls, sources, state and errors as they arrive. No build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // ---------------------------------------------------------------------------------------
  // Framing: text in, lines / SSE events out.

  /** Splits text into lines on LF, CRLF or CR (a CRLF split across reads is handled). */
  class LineSplitter {
    constructor(onLine) {
      this.onLine = onLine;
      this.buffer = "";
      this.skipLF = false;
    }
    push(text) {
      let start = 0;
      let i = 0;
      if (this.skipLF && text.startsWith("\n")) start = i = 1;
      this.skipLF = false;
      for (; i < text.length; i++) {
        const ch = text[i];
        if (ch !== "\n" && ch !== "\r") continue;
        this.onLine(this.buffer + text.slice(start, i));
        this.buffer = "";
        if (ch === "\r") {
          if (i + 1 === text.length) this.skipLF = true;
          else if (text[i + 1] === "\n") i++;
        }
        start = i + 1;
      }
      this.buffer += text.slice(start);
    }
    /** True when the body ended on a line break (nothing left over). */
    end() {
      return this.buffer === "";
    }
  }

  /** Server-sent events: calls onEvent({data, event, id}); comment-only blocks are keepalives. */
  class SSESplitter {
    constructor(onEvent, onKeepalive) {
      this.data = [];
      this.event = "";
      this.sawComment = false;
      this.lines = new LineSplitter((line) => {
        if (line === "") {
          if (this.data.length) onEvent({ data: this.data.join("\n"), event: this.event });
          else if (this.sawComment) onKeepalive();
          this.data = [];
          this.event = "";
          this.sawComment = false;
          return;
        }
        if (line.startsWith(":")) {
          this.sawComment = true;
          return;
        }
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (name === "data") this.data.push(value);
        else if (name === "event") this.event = value;
      });
    }
    push(text) {
      this.lines.push(text);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Protocol parsers: frames in, calls on a MessageView out. Each returns {push, end}.
  // `ended` says whether the stream reached the protocol's end.

  function parseJSON(text, view) {
    try {
      return JSON.parse(text);
    } catch {
      view.warn(`dropped a frame that is not valid JSON: ${text.slice(0, 80)}`);
      return undefined;
    }
  }

  function sseParser(view, stats, onData) {
    const state = { ended: false };
    const splitter = new SSESplitter(
      (event) => {
        stats.frame();
        if (state.ended) return;
        if (event.data === "[DONE]") {
          state.ended = true;
          return;
        }
        const value = parseJSON(event.data, view);
        if (value !== undefined && onData(value, state) === "end") state.ended = true;
      },
      () => stats.keepalive(),
    );
    return {
      push: (text) => splitter.push(text),
      end: () => state.ended,
    };
  }

  const PARSERS = {
    "data-stream"(view, stats) {
      let complete = true;
      const lines = new LineSplitter((line) => {
        if (line === "") return stats.keepalive();
        stats.frame();
        const colon = line.indexOf(":");
        if (colon < 0) return view.warn(`dropped a line without a code: ${line.slice(0, 80)}`);
        const code = line.slice(0, colon);
        const v = parseJSON(line.slice(colon + 1), view);
        if (v === undefined) return;
        switch (code) {
          case "0": return view.appendText(v);
          case "aui-text-delta": return view.appendText(v.textDelta);
          case "g": return view.appendReasoning(v);
          case "aui-reasoning-delta": return view.appendReasoning(v.reasoningDelta);
          case "aui-reasoning-part-start": return view.startReasoning(v.unstable_summary);
          case "b": return view.startTool(v.toolCallId, v.toolName);
          case "c": {
            const tool = view.tool(v.toolCallId);
            tool.delta(v.argsTextDelta || "");
            if (v.isFinal) tool.closeArgs();
            return;
          }
          case "9": {
            const tool = view.tool(v.toolCallId, v.toolName);
            if (!tool.argsText) tool.delta(JSON.stringify(v.args));
            return tool.closeArgs();
          }
          case "a": return view.tool(v.toolCallId).setResult(v.result, v.isError);
          case "h": return view.addSource(v);
          case "k": return view.addFile(v);
          case "aui-state": return view.applyState(v);
          case "3": return view.addError(v);
          case "d": return view.finish(v.finishReason);
          default: return undefined; // f, e, 2, 8: steps, data and annotations
        }
      });
      return {
        push: (text) => lines.push(text),
        end: () => {
          complete = lines.end();
          return complete;
        },
      };
    },

    "assistant-transport"(view, stats) {
      const parts = [];
      return sseParser(view, stats, (v) => {
        const part = Array.isArray(v.path) && v.path.length === 1 ? parts[v.path[0]] : undefined;
        switch (v.type) {
          case "part-start": {
            const init = v.part || {};
            if (init.type === "text") parts.push(view.newText());
            else if (init.type === "reasoning") parts.push(view.startReasoning(init.unstable_summary));
            else if (init.type === "tool-call") parts.push(view.startTool(init.toolCallId, init.toolName));
            else if (init.type === "source") parts.push(view.addSource(init));
            else if (init.type === "file") parts.push(view.addFile(init));
            else parts.push(null);
            return;
          }
          case "text-delta": return part && part.delta(v.textDelta);
          case "tool-call-args-text-finish": return part && part.closeArgs();
          case "result": return part && part.setResult(v.result, v.isError);
          case "part-finish": return part && part.finishPart && part.finishPart();
          case "update-state": return view.applyState(v.operations);
          case "error": return view.addError(v.error);
          case "message-finish": return view.finish(v.finishReason);
          default: return undefined;
        }
      });
    },

    openai(view, stats) {
      const byIndex = new Map();
      return sseParser(view, stats, (v) => {
        if (v.error) {
          view.addError(v.error.message || JSON.stringify(v.error));
          return undefined;
        }
        const choice = (v.choices || [])[0];
        if (!choice) return undefined;
        const delta = choice.delta || {};
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (reasoning) view.appendReasoning(reasoning);
        if (delta.content) view.appendText(delta.content);
        for (const call of delta.tool_calls || []) {
          let tool = byIndex.get(call.index);
          if (!tool) {
            tool = view.startTool(call.id || `call_${call.index}`, call.function?.name || "tool");
            byIndex.set(call.index, tool);
          }
          if (call.function?.arguments) tool.delta(call.function.arguments);
        }
        if (choice.finish_reason) {
          for (const tool of byIndex.values()) tool.closeArgs();
          view.finish(choice.finish_reason);
        }
        return undefined;
      });
    },

    "ag-ui"(view, stats) {
      const texts = new Map(); // messageId -> text part
      const reasonings = new Map(); // messageId -> reasoning part
      const path = (pointer) =>
        pointer ? pointer.slice(1).split("/").map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~")) : [];
      return sseParser(view, stats, (v) => {
        switch (v.type) {
          case "TEXT_MESSAGE_START": return void texts.set(v.messageId, view.newText());
          case "TEXT_MESSAGE_CONTENT": return texts.get(v.messageId)?.delta(v.delta);
          case "REASONING_MESSAGE_START":
            return void reasonings.set(v.messageId, view.startReasoning(v.metadata?.summary));
          case "REASONING_MESSAGE_CONTENT": return reasonings.get(v.messageId)?.delta(v.delta);
          case "REASONING_MESSAGE_END": return reasonings.get(v.messageId)?.finishPart?.();
          case "TOOL_CALL_START": return void view.startTool(v.toolCallId, v.toolCallName);
          case "TOOL_CALL_ARGS": return view.tool(v.toolCallId).delta(v.delta);
          case "TOOL_CALL_END": return view.tool(v.toolCallId).closeArgs();
          case "TOOL_CALL_RESULT": {
            let result = v.content;
            if (v.metadata?.contentType === "application/json") {
              try {
                result = JSON.parse(result);
              } catch {
                // shown as the string it is
              }
            }
            return view.tool(v.toolCallId).setResult(result, Boolean(v.metadata?.isError));
          }
          case "STATE_SNAPSHOT": return view.applyState([{ type: "set", path: [], value: v.snapshot }]);
          case "STATE_DELTA": {
            // our encoder writes add/replace only; they are sets at the pointer's path
            const ops = [];
            for (const op of v.delta || []) {
              if (op.op === "add" || op.op === "replace") ops.push({ type: "set", path: path(op.path), value: op.value });
              else if (op.op !== "test") view.warn(`state patch '${op.op}' not shown`);
            }
            return view.applyState(ops);
          }
          case "CUSTOM":
            if (v.name === "source") view.addSource(v.value);
            else if (v.name === "file") view.addFile(v.value);
            return undefined; // data, annotations
          case "RUN_ERROR":
            view.addError(v.message);
            return "end";
          case "RUN_FINISHED": {
            const interrupts = v.outcome?.type === "interrupt" ? v.outcome.interrupts || [] : [];
            for (const interrupt of interrupts) {
              if (interrupt.toolCallId) view.tool(interrupt.toolCallId).awaitApproval(interrupt.id);
            }
            const pending = interrupts.length || v.outcome?.pendingToolCallIds?.length;
            view.finish(pending ? "tool-calls" : "stop");
            return "end";
          }
          default: return undefined; // RUN_STARTED, steps, reasoning spans
        }
      });
    },

    rais(view, stats) {
      return sseParser(view, stats, (v) => {
        if (v.type === "text") view.appendText(v.text || "");
        else if (v.type === "error") {
          view.addError(v.error);
          return "end";
        } else if (v.type === "done") return "end";
        return undefined; // unknown types are ignored (RAIS v1)
      });
    },

    "ui-message-stream"(view, stats) {
      const parts = new Map(); // open text and reasoning parts by id
      return sseParser(view, stats, (v) => {
        switch (v.type) {
          case "text-start": return void parts.set(v.id, view.newText());
          case "reasoning-start": return void parts.set(v.id, view.startReasoning());
          case "text-delta":
          case "reasoning-delta": {
            const part = parts.get(v.id);
            if (part) part.delta(v.delta);
            else view.warn(`${v.type} for a part that is not open: ${v.id}`);
            return undefined;
          }
          case "text-end":
          case "reasoning-end": {
            const part = parts.get(v.id);
            if (part && part.finishPart) part.finishPart();
            return void parts.delete(v.id);
          }
          case "tool-input-start": return void view.startTool(v.toolCallId, v.toolName);
          case "tool-input-delta": return void view.tool(v.toolCallId).delta(v.inputTextDelta);
          case "tool-input-available":
          case "tool-input-error": {
            const tool = view.tool(v.toolCallId, v.toolName);
            if (!tool.argsText) tool.delta(typeof v.input === "string" ? v.input : JSON.stringify(v.input));
            tool.closeArgs();
            if (v.type === "tool-input-error") tool.setResult(v.errorText, true);
            return undefined;
          }
          case "tool-output-available": return void view.tool(v.toolCallId).setResult(v.output, false);
          case "tool-output-error": return void view.tool(v.toolCallId).setResult(v.errorText, true);
          case "tool-approval-request": return void view.tool(v.toolCallId).awaitApproval(v.approvalId);
          case "tool-output-denied": return void view.tool(v.toolCallId).setDenied();
          case "start":
            if (v.messageId) view.messageId = v.messageId;
            return undefined;
          case "source-url": return void view.addSource(v);
          case "file": return void view.addFile({ mimeType: v.mediaType, data: v.url });
          case "data-state": return void view.applyState([{ type: "set", path: [], value: v.data }]);
          case "error": return void view.addError(v.errorText);
          case "finish": return void view.finish(v.finishReason || "stop");
          case "abort": return void view.finish("aborted");
          default: return undefined; // steps, metadata and other data-* parts
        }
      });
    },
  };

  // A registered protocol this page has no parser for: its frames are shown as they arrive.
  function rawParser(view, stats) {
    const lines = new LineSplitter((line) => {
      if (line === "") return stats.keepalive();
      stats.frame();
      view.appendText(`${line}\n`);
      return undefined;
    });
    return {
      push: (text) => lines.push(text),
      end: () => lines.end(),
    };
  }

  // ---------------------------------------------------------------------------------------
  // Rendering one assistant message.

  const pretty = (text) => {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  };

  class MessageView {
    constructor(container, app) {
      this.app = app;
      this.root = el("div", "msg assistant");
      this.root.dataset.status = "streaming";
      this.body = el("div", "bubble");
      this.root.append(el("div", "avatar", "◆"), this.body);
      container.append(this.root);
      this.current = null; // the text or reasoning part deltas append to
      this.tools = new Map();
      this.items = []; // this reply's text parts and new tool calls, in order (for the history)
      this.messageId = null;
      this.sources = null;
      this.hasError = false;
    }

    newText() {
      const node = document.createTextNode("");
      const box = el("div", "part-text");
      box.append(node);
      this.body.append(box);
      const part = {
        kind: "text",
        delta: (d) => {
          if (!d) return;
          node.data += d;
          this.app.changed();
        },
        text: () => node.data,
      };
      this.items.push(part);
      this.current = part;
      return part;
    }

    startReasoning(summary) {
      const box = el("details", "part-reasoning");
      box.open = true;
      const head = el("summary", "", summary ? `Reasoning · ${summary}` : "Thinking…");
      const text = el("div", "reasoning-text");
      box.append(head, text);
      this.body.append(box);
      const part = {
        kind: "reasoning",
        delta: (d) => {
          if (!d) return;
          text.textContent += d;
          this.app.changed();
        },
        finishPart: () => {
          if (head.textContent === "Thinking…") head.textContent = "Reasoning";
        },
      };
      this.current = part;
      return part;
    }

    appendText(delta) {
      if (!this.current || this.current.kind !== "text") {
        if (this.current && this.current.finishPart) this.current.finishPart();
        this.newText();
      }
      this.current.delta(delta);
    }

    appendReasoning(delta) {
      if (!this.current || this.current.kind !== "reasoning") this.startReasoning();
      this.current.delta(delta);
    }

    startTool(id, name) {
      if (this.current && this.current.finishPart) this.current.finishPart();
      this.current = null;
      // A call of an earlier reply streamed again (its outcome after an approval): the
      // earlier card shows it.
      const earlier = this.app.tools.get(id);
      if (earlier) {
        this.tools.set(id, earlier);
        return earlier;
      }
      const card = el("div", "tool-card");
      card.dataset.toolCallId = id;
      card.dataset.state = "args";
      const head = el("div", "tool-head");
      const status = el("span", "tool-status", "calling…");
      head.append(el("span", "tool-icon", "⚙"), el("span", "tool-name", name), status);
      const args = el("pre", "tool-args");
      const resultBox = el("div", "tool-section tool-result-box");
      resultBox.hidden = true;
      const result = el("pre", "tool-result");
      resultBox.append(el("div", "tool-label", "Result"), result);
      const argsBox = el("div", "tool-section");
      argsBox.append(el("div", "tool-label", "Arguments"), args);
      card.append(head, argsBox, resultBox);
      this.body.append(card);
      const decision = el("div", "tool-section tool-approval");
      decision.hidden = true;
      card.append(decision);
      const app = this.app;
      const tool = {
        kind: "tool",
        id,
        name,
        card,
        argsText: "",
        open: true,
        state: "pending", // until a result, an error or a denial arrives
        result: undefined,
        approvalId: null, // the protocol's approval request id, when it has one
        answer: null, // the page's answer: {result} or {approved, reason}
        answerSent: false,
        delta: (d) => {
          if (!d || !tool.open) return;
          tool.argsText += d;
          args.textContent = tool.argsText;
          this.app.changed();
        },
        closeArgs: () => {
          if (!tool.open) return;
          tool.open = false;
          args.textContent = pretty(tool.argsText || "{}");
          card.dataset.state = "called";
          status.textContent = "called";
        },
        setResult: (value, isError) => {
          tool.closeArgs();
          decision.hidden = true;
          resultBox.hidden = false;
          result.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
          // a denial arrives as an error result in protocols without a denied state
          const denied = isError && tool.answer && tool.answer.approved === false;
          tool.state = denied ? "denied" : isError ? "error" : "result";
          tool.result = value;
          card.dataset.state = tool.state;
          status.textContent = denied ? "denied" : isError ? "failed" : "done";
          this.app.changed();
        },
        setDenied: () => {
          tool.setResult("The user denied this tool call.", true);
          tool.state = card.dataset.state = "denied";
          status.textContent = "denied";
        },
        awaitApproval: (approvalId) => {
          tool.closeArgs();
          tool.approvalId = approvalId;
        },
        /** Approve / Deny buttons; a click answers the call and continues the run. */
        askApproval: () => {
          card.dataset.state = "awaiting";
          status.textContent = "needs your approval";
          decision.textContent = "";
          decision.hidden = false;
          const approve = el("button", "approve", "Approve");
          const deny = el("button", "deny", "Deny");
          approve.type = deny.type = "button";
          const answer = (approved) => {
            tool.answer = approved ? { approved: true } : { approved: false, reason: "Denied on the demo page" };
            decision.hidden = true;
            card.dataset.state = approved ? "approved" : "denying";
            status.textContent = approved ? "approved · running…" : "denied · telling the model…";
            app.continueRun();
          };
          approve.addEventListener("click", () => answer(true));
          deny.addEventListener("click", () => answer(false));
          decision.append(el("span", "tool-label", "Needs your approval"), approve, deny);
          this.app.changed();
        },
      };
      this.tools.set(id, tool);
      this.app.tools.set(id, tool);
      this.items.push(tool);
      return tool;
    }

    tool(id, name) {
      return this.tools.get(id) || this.app.tools.get(id) || this.startTool(id, name || "tool");
    }

    addSource(source) {
      if (!this.sources) {
        this.sources = el("div", "sources");
        this.sources.append(el("span", "sources-label", "Sources"));
        this.body.append(this.sources);
      }
      const link = el("a", "source-link");
      link.href = source.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      let host = source.url;
      try {
        host = new URL(source.url).hostname;
      } catch {
        /* keep the raw URL */
      }
      link.append(el("span", "source-title", source.title || host), el("span", "source-host", host));
      this.sources.append(link);
      this.current = null;
      this.app.changed();
      return null;
    }

    addFile(file) {
      const box = el("div", "part-file", `📎 ${file.mimeType || "file"}`);
      this.body.append(box);
      this.current = null;
      return null;
    }

    addError(message) {
      this.hasError = true;
      const box = el("div", "part-error");
      box.append(el("strong", "", "Error "), document.createTextNode(String(message)));
      this.body.append(box);
      this.current = null;
      this.app.changed();
    }

    warn(message) {
      console.warn(message);
    }

    applyState(operations) {
      this.app.applyState(operations);
    }

    finish(reason) {
      this.finishReason = reason;
    }

    end(status) {
      if (this.current && this.current.finishPart) this.current.finishPart();
      for (const tool of this.tools.values()) tool.closeArgs();
      for (const box of this.body.querySelectorAll("details.part-reasoning")) {
        if (this.body.querySelector(".part-text")) box.open = false;
      }
      this.root.dataset.status = status;
      if (status !== "done") {
        const labels = { stopped: "Stopped", error: "Failed", "cut-off": "Connection cut off" };
        this.body.append(el("div", `end-tag end-${status}`, labels[status] || status));
      }
      if (!this.body.childElementCount) this.body.append(el("div", "part-text muted", "(no content)"));
    }

    plainText() {
      return Array.from(this.body.querySelectorAll(".part-text"), (node) => node.textContent).join("");
    }
  }

  // ---------------------------------------------------------------------------------------
  // State operations (set / append-text), as in the assistant-ui protocols.

  function applyOperation(state, op) {
    const path = op.path || [];
    if (!path.length) return op.type === "set" ? op.value : String(state ?? "") + op.value;
    const root = Array.isArray(state) ? state.slice() : { ...(state || {}) };
    let node = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i];
      const next = node[key];
      node[key] = Array.isArray(next) ? next.slice() : { ...(next || {}) };
      node = node[key];
    }
    const last = path[path.length - 1];
    node[last] = op.type === "set" ? op.value : String(node[last] ?? "") + op.value;
    return root;
  }

  // ---------------------------------------------------------------------------------------
  // The conversation in each protocol's own request shape.
  //
  // `convo` holds {role: "user", id, text} and {role: "assistant", id, items} entries, items
  // being a reply's text parts and tool calls (with the page's answers to pending calls).

  /** Tools the page runs itself (client tools), declared in every request that carries tools. */
  const CLIENT_TOOLS = {
    get_location: {
      description: "The user's current location (the browser answers).",
      parameters: { type: "object", properties: {} },
      run: () => ({ city: "Lyon", country: "France", source: "the demo page" }),
    },
  };
  const toolDefinitions = () =>
    Object.entries(CLIENT_TOOLS).map(([name, t]) => ({ name, description: t.description, parameters: t.parameters }));

  const parseArgs = (text) => {
    try {
      const value = JSON.parse(text || "{}");
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    } catch {
      return {};
    }
  };
  const asText = (value) => (typeof value === "string" ? value : JSON.stringify(value));
  const isPending = (item) => item.kind === "tool" && item.state === "pending";
  const approvalAnswer = (answer) => (answer && !("result" in answer) ? answer : null);

  /** OpenAI chat messages. `approvals`: "result" sends an approval as the call's result
   *  {approved, reason?} (assistant-ui, OpenAI clients); "resume" leaves it to AG-UI's resume. */
  function openaiMessages(convo, approvals) {
    const out = [];
    for (const entry of convo) {
      if (entry.role === "user") {
        out.push({ role: "user", content: entry.text });
        continue;
      }
      let text = "";
      let calls = [];
      const flush = () => {
        // unanswered calls are left out (the user moved on without answering them)
        const sent = calls.filter((t) => !isPending(t) || t.answer);
        const message = { role: "assistant", content: text || null };
        if (sent.length) {
          message.tool_calls = sent.map((t) => ({
            id: t.id,
            type: "function",
            function: { name: t.name, arguments: t.argsText || "{}" },
          }));
        }
        if (message.content !== null || message.tool_calls) out.push(message);
        for (const t of sent) {
          if (!isPending(t)) out.push({ role: "tool", tool_call_id: t.id, content: asText(t.result) });
          else if ("result" in t.answer) out.push({ role: "tool", tool_call_id: t.id, content: asText(t.answer.result) });
          else if (approvals === "result") out.push({ role: "tool", tool_call_id: t.id, content: asText(t.answer) });
        }
        text = "";
        calls = [];
      };
      for (const item of entry.items) {
        if (item.kind === "text") {
          if (calls.length) flush();
          text += item.text();
        } else if (item.kind === "tool") calls.push(item);
      }
      flush();
    }
    return out;
  }

  function uiPart(item) {
    if (item.kind === "text") return { type: "text", text: item.text(), state: "done" };
    const part = { type: `tool-${item.name}`, toolCallId: item.id, input: parseArgs(item.argsText) };
    const approval = (approved, reason) => ({
      id: item.approvalId || `approval_${item.id}`,
      approved,
      ...(reason ? { reason } : {}),
    });
    if (item.state === "denied") return { ...part, state: "output-denied", approval: approval(false, item.answer?.reason) };
    if (item.state === "result") return { ...part, state: "output-available", output: item.result };
    if (item.state === "error") return { ...part, state: "output-error", errorText: asText(item.result) };
    if (item.answer && "result" in item.answer) return { ...part, state: "output-available", output: item.answer.result };
    if (item.answer) return { ...part, state: "approval-responded", approval: approval(item.answer.approved, item.answer.reason) };
    if (item.approvalId) return { ...part, state: "approval-requested", approval: { id: item.approvalId } };
    return { ...part, state: "input-available" };
  }

  /** AI SDK language-model messages, as assistant-ui's data stream runtime sends them. */
  function lmMessages(messages) {
    const names = {};
    return messages.map((m) => {
      if (m.role === "user") return { role: "user", content: [{ type: "text", text: m.content }] };
      if (m.role === "tool") {
        let value = m.content;
        try {
          value = JSON.parse(m.content);
        } catch {
          /* a plain text result */
        }
        const output = { type: "json", value };
        return { role: "tool", content: [{ type: "tool-result", toolCallId: m.tool_call_id, toolName: names[m.tool_call_id], output }] };
      }
      const content = m.content ? [{ type: "text", text: m.content }] : [];
      for (const call of m.tool_calls || []) {
        names[call.id] = call.function.name;
        content.push({ type: "tool-call", toolCallId: call.id, toolName: call.function.name, input: parseArgs(call.function.arguments) });
      }
      return { role: "assistant", content };
    });
  }

  /** The body of the next request in `format`'s own shape; `text`: a new user message (else
   *  the request carries the page's answers to the last reply's pending calls). */
  function requestBody(format, app, text) {
    const convo = app.convo.filter((e) => e.role === "user" || e.items.length);
    const answered = app.convo.flatMap((e) => (e.items || []).filter((t) => isPending(t) && t.answer && !t.answerSent));
    const tools = toolDefinitions();
    const byName = Object.fromEntries(tools.map(({ name, ...rest }) => [name, rest]));
    switch (format) {
      case "ui-message-stream": {
        const messages = convo.map((e) =>
          e.role === "user"
            ? { id: e.id, role: "user", parts: [{ type: "text", text: e.text }] }
            : { id: e.id, role: "assistant", parts: [{ type: "step-start" }, ...e.items.map(uiPart)] },
        );
        const last = convo[convo.length - 1];
        return { id: app.chatId, messages, trigger: "submit-message", ...(text ? {} : { messageId: last.id }) };
      }
      case "data-stream":
        return { messages: lmMessages(openaiMessages(convo, "result")), tools: byName, threadId: app.chatId, runConfig: {} };
      case "assistant-transport": {
        // the server keeps the conversation: only what is new is sent, as commands
        const commands = text
          ? [{ type: "add-message", message: { role: "user", parts: [{ type: "text", text }] }, parentId: null, sourceId: null }]
          : answered.map((t) => ({
              type: "add-tool-result",
              toolCallId: t.id,
              toolName: t.name,
              result: "result" in t.answer ? t.answer.result : t.answer,
              isError: false,
            }));
        return { commands, state: {}, tools: byName, threadId: app.chatId, runConfig: {} };
      }
      case "ag-ui": {
        const messages = openaiMessages(convo, "resume").map((m, index) => {
          const id = `m-${index}`;
          if (m.role === "tool") return { id, role: "tool", toolCallId: m.tool_call_id, content: m.content };
          if (m.role === "user") return { id, role: "user", content: m.content };
          return { id, role: "assistant", ...(m.content !== null ? { content: m.content } : {}), ...(m.tool_calls ? { toolCalls: m.tool_calls } : {}) };
        });
        const resume = answered
          .filter((t) => approvalAnswer(t.answer) && t.approvalId)
          .map((t) => ({
            interruptId: t.approvalId,
            status: t.answer.approved ? "resolved" : "cancelled",
            payload: t.answer,
          }));
        return {
          threadId: app.chatId,
          runId: `run-${++app.runs}`,
          state: {},
          messages,
          tools,
          context: [],
          forwardedProps: {},
          ...(resume.length ? { resume } : {}),
        };
      }
      case "openai":
        return {
          model: "demo",
          stream: true,
          messages: openaiMessages(convo, "result"),
          tools: tools.map((t) => ({ type: "function", function: t })),
        };
      default: // RAIS and any other: text only
        return {
          messages: convo
            .map((e) => ({
              role: e.role,
              content: e.role === "user" ? e.text : e.items.filter((i) => i.kind === "text").map((i) => i.text()).join(""),
            }))
            .filter((m) => m.content),
        };
    }
  }

  // ---------------------------------------------------------------------------------------
  // The app.

  const app = {
    formats: [],
    format: localStorage.getItem("asce.format") || "data-stream",
    convo: [],
    tools: new Map(), // every tool call shown, by id (a later reply may carry its outcome)
    chatId: `chat-${Math.random().toString(36).slice(2, 10)}`,
    runs: 0,
    state: {},
    abort: null,
    scrollPending: false,

    // Follow the newest text while the reader is at the bottom; a reader who scrolls up to
    // read stays where they are until they come back down (or send a message).
    follow: true,

    changed(force = false) {
      if (force) this.follow = true;
      if (this.scrollPending) return;
      this.scrollPending = true;
      requestAnimationFrame(() => {
        this.scrollPending = false;
        const scroller = $("scroller");
        if (this.follow) scroller.scrollTop = scroller.scrollHeight;
      });
    },

    watchScroll() {
      const scroller = $("scroller");
      let last = scroller.scrollTop;
      scroller.addEventListener("scroll", () => {
        const fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
        if (scroller.scrollTop < last - 2) this.follow = false; // the reader scrolled up
        else if (fromBottom < 24) this.follow = true; // back at the bottom
        last = scroller.scrollTop;
      });
    },

    applyState(operations) {
      for (const op of operations || []) this.state = applyOperation(this.state, op);
      const view = $("state-view");
      view.textContent = JSON.stringify(this.state, null, 2);
      view.classList.remove("flash");
      void view.offsetWidth; // restart the highlight animation
      view.classList.add("flash");
    },

    renderFormats() {
      const nav = $("protocols");
      nav.textContent = "";
      for (const fmt of this.formats) {
        const button = el("button", "protocol", fmt.label);
        button.type = "button";
        button.dataset.format = fmt.name;
        button.setAttribute("role", "radio");
        button.setAttribute("aria-checked", String(fmt.name === this.format));
        button.addEventListener("click", () => this.selectFormat(fmt.name));
        nav.append(button);
      }
      this.renderCaption();
    },

    selectFormat(name) {
      if (!this.formats.some((fmt) => fmt.name === name)) return;
      this.format = name;
      localStorage.setItem("asce.format", name);
      for (const button of $("protocols").children) {
        button.setAttribute("aria-checked", String(button.dataset.format === name));
      }
      this.renderCaption();
    },

    renderCaption() {
      const fmt = this.formats.find((f) => f.name === this.format);
      if (!fmt) return;
      const all = ["reasoning", "tool-calls", "tool-results", "sources", "state"];
      const missing = all.filter((what) => !fmt.carries.includes(what));
      const words = { "tool-calls": "tool calls", "tool-results": "tool results" };
      const names = (list) => list.map((w) => words[w] || w).join(", ");
      $("caption").textContent =
        `POST ${fmt.endpoint}` +
        (missing.length ? ` · ${fmt.label} cannot carry ${names(missing)}` : " · carries everything") +
        (PARSERS[fmt.name] ? "" : " · shown as raw frames");
    },

    setBusy(busy) {
      $("send").hidden = busy;
      $("stop").hidden = !busy;
      $("input").disabled = busy;
      for (const button of $("protocols").children) button.disabled = busy;
    },

    stat(name, value) {
      $(`stat-${name}`).textContent = value;
    },

    async send(text) {
      text = text.trim();
      if (!text || this.abort) return;
      $("empty").hidden = true;
      const messages = $("messages");
      const user = el("div", "msg user");
      user.append(el("div", "bubble", text));
      messages.append(user);
      this.convo.push({ role: "user", id: `u-${this.convo.length}`, text });
      this.convo.push({ role: "assistant", id: `a-${this.convo.length}`, items: [] });
      await this.stream(text);
    },

    /** After the page answered pending calls (a client tool's result, Approve / Deny). */
    async continueRun() {
      if (this.abort) return;
      await this.stream(null);
    },

    /** Stream the reply to a new message (`text`) or to the page's answers (null). */
    async stream(text) {
      const messages = $("messages");
      const entry = this.convo[this.convo.length - 1];
      this.state = {};
      $("state-view").textContent = "{}";

      const view = new MessageView(messages, this);
      const format = this.format;
      const started = performance.now();
      const counters = { frames: 0, keepalives: 0, bytes: 0 };
      const stats = {
        frame: () => this.stat("frames", String(++counters.frames)),
        keepalive: () => counters.keepalives++,
      };
      this.stat("format", this.formats.find((f) => f.name === format)?.label || format);
      this.stat("status", "streaming…");
      for (const name of ["ttfb", "frames", "bytes", "duration"]) this.stat(name, "—");
      this.abort = new AbortController();
      this.setBusy(true);
      this.changed(true); // show the message just sent, and follow the reply

      let status = "done";
      try {
        const params = new URLSearchParams();
        const pace = new URLSearchParams(location.search).get("pace");
        if (pace) params.set("pace", pace);
        if (format === "ui-message-stream") params.set("sdk_version", "7"); // approvals need 6+
        const query = params.toString() ? `?${params}` : "";
        const body = requestBody(format, this, text);
        for (const item of this.convo.flatMap((e) => e.items || [])) {
          if (item.answer) item.answerSent = true;
        }
        const response = await fetch(`/api/chat/${format}${query}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: this.abort.signal,
        });
        this.stat("ttfb", `${Math.round(performance.now() - started)} ms`);
        if (!response.ok) {
          const body = await response.text();
          let message = body;
          try {
            message = JSON.parse(body).error || body;
          } catch {
            /* plain text */
          }
          view.addError(`HTTP ${response.status}: ${message}`);
          status = "error";
        } else {
          const parser = (PARSERS[format] || rawParser)(view, stats);
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            counters.bytes += value.length;
            this.stat("bytes", counters.bytes.toLocaleString());
            parser.push(decoder.decode(value, { stream: true }));
          }
          parser.push(decoder.decode());
          const ended = parser.end() || format === "rais"; // RAIS: no `done` still completes
          status = view.hasError ? "error" : ended ? "done" : "cut-off";
        }
      } catch (error) {
        if (error.name === "AbortError") status = "stopped";
        else {
          view.addError(String(error.message || error));
          status = "error";
        }
      } finally {
        view.end(status);
        this.abort = null;
        this.setBusy(false);
        this.stat("status", status);
        this.stat("duration", `${Math.round(performance.now() - started)} ms`);
        entry.items.push(...view.items);
        if (view.messageId) entry.id = view.messageId;
        $("input").focus();
        this.changed();
        if (status === "stopped") this.reportServerSide();
      }
      if (status === "done" && format === "openai") this.settleAnswered();
      if (status === "done") this.answerPending(entry, view);
    },

    /** OpenAI streams carry no tool results: once the run after an approval is done, the
     *  card says what happened (the model's reply has the result). */
    settleAnswered() {
      for (const tool of this.tools.values()) {
        const answer = approvalAnswer(tool.answer);
        if (!isPending(tool) || !answer || !tool.answerSent) continue;
        if (answer.approved) tool.setResult("Approved: it ran on the server (OpenAI streams carry no tool results).", false);
        else tool.setDenied();
        tool.state = "pending"; // the history still sends the answer as the call's result
      }
    },

    /** Calls the reply left for the page: a client tool runs here and the run continues; any
     *  other call waits for the user's Approve / Deny. */
    answerPending(entry, view) {
      if (!["tool-calls", "tool_calls"].includes(view.finishReason)) return;
      const pending = entry.items.filter((t) => isPending(t) && !t.answer);
      if (!pending.length) return;
      let ran = false;
      for (const tool of pending) {
        const local = CLIENT_TOOLS[tool.name];
        if (!local) {
          tool.askApproval();
          continue;
        }
        const result = local.run(parseArgs(tool.argsText));
        tool.answer = { result };
        tool.setResult(result, false);
        tool.state = "pending"; // answered by the page; the server has not seen it yet
        ran = true;
      }
      if (ran && pending.every((t) => t.answer)) this.continueRun();
    },

    /** After Stop: show what the server recorded for the run (it should say "cancelled"). */
    async reportServerSide() {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const run = await (await fetch("/api/runs/last")).json();
          if (run.status && run.status !== "running") {
            this.stat("status", `stopped · server: ${run.status}`);
            return;
          }
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },

    stop() {
      if (this.abort) this.abort.abort();
    },

    async init() {
      const input = $("input");
      this.watchScroll();
      $("composer").addEventListener("submit", (event) => {
        event.preventDefault();
        const text = input.value;
        input.value = "";
        input.style.height = "";
        this.send(text);
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          $("composer").requestSubmit();
        }
      });
      input.addEventListener("input", () => {
        input.style.height = "";
        input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
      });
      $("stop").addEventListener("click", () => this.stop());
      for (const chip of document.querySelectorAll(".chip")) {
        chip.addEventListener("click", () => this.send(chip.textContent));
      }
      try {
        const info = await (await fetch("/api/formats")).json();
        this.formats = info.formats;
        if (!this.formats.some((f) => f.name === this.format)) this.format = this.formats[0].name;
        $("provider-badge").textContent =
          info.provider === "offline" ? "offline model" : `${info.provider}${info.model ? ` · ${info.model}` : ""}`;
        this.renderFormats();
        document.body.dataset.ready = "true";
      } catch (error) {
        $("caption").textContent = `Could not load the protocol list: ${error}`;
      }
      input.focus();
    },
  };

  window.demoApp = app;
  app.init();
})();
