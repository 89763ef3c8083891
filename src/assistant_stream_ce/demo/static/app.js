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
          case "RUN_FINISHED":
            view.finish(v.outcome?.pendingToolCallIds?.length ? "tool-calls" : "stop");
            return "end";
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
          case "source-url": return void view.addSource(v);
          case "file": return void view.addFile({ mimeType: v.mediaType, data: v.url });
          case "data-state": return void view.applyState([{ type: "set", path: [], value: v.data }]);
          case "error": return void view.addError(v.errorText);
          case "finish": return void view.finish(v.finishReason || "stop");
          case "abort": return void view.finish("aborted");
          default: return undefined; // start, steps, metadata and other data-* parts
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
      const tool = {
        kind: "tool",
        argsText: "",
        open: true,
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
          resultBox.hidden = false;
          result.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
          card.dataset.state = isError ? "error" : "result";
          status.textContent = isError ? "failed" : "done";
          this.app.changed();
        },
      };
      this.tools.set(id, tool);
      return tool;
    }

    tool(id, name) {
      return this.tools.get(id) || this.startTool(id, name || "tool");
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
  // The app.

  const app = {
    formats: [],
    format: localStorage.getItem("asce.format") || "data-stream",
    history: [],
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
      this.history.push({ role: "user", content: text });
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
        const pace = new URLSearchParams(location.search).get("pace");
        const query = pace ? `?pace=${encodeURIComponent(pace)}` : "";
        const response = await fetch(`/api/chat/${format}${query}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ messages: this.history }),
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
        const reply = view.plainText();
        if (reply) this.history.push({ role: "assistant", content: reply });
        $("input").focus();
        this.changed();
        if (status === "stopped") this.reportServerSide();
      }
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
