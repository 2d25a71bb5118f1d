"""Prompt formats as data: ``chat`` (the tokenizer's chat template) or a named Jinja template
shipped in ``models/prompt_formats/NAME.toml`` (``hpc-coder-v2``, ``chatkokkos``, ...).

A named template sees ``question``, ``context``, ``instruction`` (the question, preceded by the
context when there is one) and ``answer``, and must end with the answer: the prompt is what it
renders before ``answer``, so training text and inference prompts can never drift apart.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

CHAT = "chat"
_SENTINEL = "\x00ELLORA-ANSWER\x00"


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer the chat format needs."""

    eos_token: str | None

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Example:
    """One question/answer pair (ChatKokkos fields; other data sets map onto them)."""

    question: str
    answer: str = ""
    context: str = ""


@dataclass(frozen=True)
class PromptFormat:
    """A named prompt format; ``template`` is None for ``chat``."""

    name: str
    template: str | None
    description: str = ""
    stop: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_chat(self) -> bool:
        """True when the tokenizer's chat template renders the prompt."""
        return self.template is None

    def render(self, example: Example) -> tuple[str, str]:
        """(prompt, text after the answer) for a named template."""
        if self.template is None:
            raise ValueError("the chat format is rendered by the tokenizer: use split_example")
        text = _compiled(self.template).render(
            question=example.question,
            context=example.context,
            instruction=instruction_text(example),
            answer=_SENTINEL,
        )
        before, found, after = text.partition(_SENTINEL)
        if not found:
            raise ValueError(f"prompt format {self.name!r} never renders {{{{ answer }}}}")
        return before, after


def instruction_text(example: Example) -> str:
    """The question, preceded by the context when there is one."""
    if example.context.strip():
        return f"{example.context.strip()}\n\n{example.question}"
    return example.question


def chat_messages(example: Example) -> list[dict[str, str]]:
    """The example as one user turn (context first), for chat templates."""
    return [{"role": "user", "content": instruction_text(example)}]


@functools.lru_cache(maxsize=32)
def _compiled(template: str) -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    return environment.from_string(template)


def available_formats() -> list[str]:
    """``chat`` and the names of the shipped templates."""
    folder = resources.files("ellora.models") / "prompt_formats"
    names = [entry.name[: -len(".toml")] for entry in folder.iterdir()]
    return [CHAT, *sorted(n for n in names if not n.startswith("."))]


@functools.lru_cache(maxsize=16)
def load_prompt_format(name: str) -> PromptFormat:
    """The format called ``name``; ValueError naming the choices when there is none."""
    if name == CHAT:
        return PromptFormat(name=CHAT, template=None, description="the tokenizer's chat template")
    entry = resources.files("ellora.models") / "prompt_formats" / f"{name}.toml"
    if "/" in name or not entry.is_file():
        raise ValueError(f"unknown prompt format {name!r}: choose one of {available_formats()}")
    data = tomllib.loads(entry.read_text(encoding="utf-8"))
    fmt = PromptFormat(
        name=name,
        template=data["template"],
        description=data.get("description", ""),
        stop=tuple(data.get("stop", ())),
        source=data.get("source", ""),
    )
    fmt.render(Example(question="q", context="c"))  # fails early on a template without answer
    return fmt


def prompt_text(fmt: PromptFormat, example: Example, tokenizer: ChatTokenizer) -> str:
    """The inference prompt for ``example`` (everything before the answer)."""
    if fmt.is_chat:
        return str(
            tokenizer.apply_chat_template(
                chat_messages(example), tokenize=False, add_generation_prompt=True
            )
        )
    return fmt.render(example)[0]


def split_example(fmt: PromptFormat, example: Example, tokenizer: ChatTokenizer) -> tuple[str, str]:
    """(prompt, completion) for training: the loss is taken on the completion only.

    The completion is the answer, what the format puts after it (the chat template's end of
    turn) and, for named templates, the tokenizer's EOS token so the model learns to stop.
    """
    if fmt.is_chat:
        prompt = prompt_text(fmt, example, tokenizer)
        conversation = [
            *chat_messages(example),
            {"role": "assistant", "content": _SENTINEL},
        ]
        full = str(tokenizer.apply_chat_template(conversation, tokenize=False))
        before, found, after = full.partition(_SENTINEL)
        if not found or before != prompt:
            raise ValueError("the chat template does not render the prompt as a prefix")
        return prompt, example.answer + after
    before, after = fmt.render(example)
    return before, example.answer + after + (tokenizer.eos_token or "")
