import { memo } from 'react';
import { fitLine, type Line } from './format.ts';
import { ink } from './ink.ts';
import { paint } from './theme.ts';

export interface LinesProps {
  lines: Line[];
  width: number;
  color: boolean;
}

/**
 * Pre-built lines, one <Text> each, cut to the width (never wrapped: a wrapped line would
 * throw off Ink's redraw and leave garbage behind on narrow terminals).
 */
export function Lines({ lines, width, color }: LinesProps) {
  const { Box } = ink();
  return (
    <Box flexDirection="column" width={width}>
      {lines.map((line, i) => (
        <LineText key={i} text={paintLine(fitLine(line, width), color)} />
      ))}
    </Box>
  );
}

export function paintLine(line: Line, color: boolean): string {
  let out = '';
  for (const segment of line) out += paint(segment.text, segment.tone, color);
  return out;
}

/** Most lines do not change between frames; React skips those. */
const LineText = memo(function LineText({ text }: { text: string }) {
  const { Text } = ink();
  return <Text wrap="truncate-end">{text || ' '}</Text>;
});
