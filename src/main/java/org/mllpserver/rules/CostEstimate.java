package org.mllpserver.rules;

import dev.cel.common.ast.CelExpr;

import java.util.Map;

/**
 * A static upper estimate of what evaluating an expression costs, in evaluation steps (one step
 * is one node of the expression evaluated once), computed from the checked expression before it
 * ever runs. cel-java has no cost tracking of its own (cel-go has), so this is ours.
 *
 * <p>The model: every node costs 1; a few functions cost more (regular expressions 10, the
 * string functions that scan their input 2); a comprehension ({@code exists}, {@code all},
 * {@code map}, {@code filter}, {@code exists_one}) costs its range and initial value plus its
 * condition and step once per element; a list whose size is not in the expression is assumed
 * to hold {@link #ASSUMED_LIST_SIZE} entries. Nested comprehensions therefore multiply, which
 * is what the limit is for: {@code obx_list.all(a, obx_list.all(b, ...))} is refused, a single
 * pass over {@code obx_list} is not. The runtime step limit then holds whatever message comes.
 */
final class CostEstimate {

    /** Entries assumed in a list whose length the expression does not show (obx_list, id_list). */
    static final int ASSUMED_LIST_SIZE = 25;

    private static final Map<String, Long> FUNCTION_COST = Map.of(
            "matches", 10L,
            "contains", 2L,
            "startsWith", 2L,
            "endsWith", 2L,
            "field", 2L);

    private CostEstimate() {}

    /** The estimated cost of {@code expr}, saturating at {@link Long#MAX_VALUE}. */
    static long of(CelExpr expr) {
        return switch (expr.getKind()) {
            case CONSTANT, IDENT, NOT_SET -> 1;
            case SELECT -> add(1, of(expr.select().operand()));
            case CALL -> {
                long cost = FUNCTION_COST.getOrDefault(expr.call().function(), 1L);
                if (expr.call().target().isPresent()) cost = add(cost, of(expr.call().target().get()));
                for (CelExpr arg : expr.call().args()) cost = add(cost, of(arg));
                yield cost;
            }
            case LIST -> {
                long cost = 1;
                for (CelExpr element : expr.list().elements()) cost = add(cost, of(element));
                yield cost;
            }
            case MAP -> {
                long cost = 1;
                for (var entry : expr.map().entries()) cost = add(cost, add(of(entry.key()), of(entry.value())));
                yield cost;
            }
            case STRUCT -> {
                long cost = 1;
                for (var entry : expr.struct().entries()) cost = add(cost, of(entry.value()));
                yield cost;
            }
            case COMPREHENSION -> {
                CelExpr.CelComprehension c = expr.comprehension();
                long perElement = add(of(c.loopCondition()), of(c.loopStep()));
                long cost = add(add(of(c.iterRange()), of(c.accuInit())), of(c.result()));
                yield add(cost, multiply(size(c.iterRange()), perElement));
            }
        };
    }

    private static long size(CelExpr range) {
        if (range.getKind() == CelExpr.ExprKind.Kind.LIST) return range.list().elements().size();
        return ASSUMED_LIST_SIZE;
    }

    private static long add(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    private static long multiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
